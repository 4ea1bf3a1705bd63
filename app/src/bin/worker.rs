//! The Web Worker's entry: the engine runs here, never on the page's thread.

fn main() {
    app::worker::start();
}
