//! The page's entry: mount the app; a panic never leaves a silent, dead page.

fn main() {
    app::page::panic_hook::install();
    leptos::mount::mount_to_body(app::page::app::App);
}
