//! The FreeNoise page: mounts the app and makes sure a panic never leaves a silent, dead page.

mod canvas;
mod components;
mod compute;
mod panic_hook;

fn main() {
    panic_hook::install();
    leptos::mount::mount_to_body(components::app::App);
}
