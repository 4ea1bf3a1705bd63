//! The page's entry: mount the app; a panic never leaves a silent, dead page.

fn main() {
    app::panic_hook::install();
    leptos::mount::mount_to_body(app::components::app::App);
}
