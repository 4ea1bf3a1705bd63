//! A panic in wasm aborts the module; the hook's job is to say so in the status line instead of
//! leaving a page that looks alive but no longer answers.

use wasm_bindgen::JsCast;

/// Element id of the status line the message goes to.
pub const STATUS_ID: &str = "status";

pub fn install() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        let message = format!("Something went wrong inside the engine: {info}. Reload the page to try again.");
        // The reactive system may be what panicked, so write to the DOM directly.
        if let Some(status) =
            web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id(STATUS_ID)).and_then(|e| e.dyn_into::<web_sys::Element>().ok())
        {
            status.set_text_content(Some(&message));
            let _ = status.set_attribute("data-state", "error");
        }
    }));
}
