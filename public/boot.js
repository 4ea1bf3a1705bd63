// Starts the page's wasm from a file instead of Trunk's inline script, so the page's
// Content-Security-Policy can forbid inline script. Trunk fills in the two data attributes
// (Trunk.toml, `pattern_script`).
const tag = document.querySelector('script[data-wasm]');
const { default: init } = await import(tag.dataset.js);
await init({ module_or_path: tag.dataset.wasm });
