//! Looping playback of RGBA frames in a canvas at a chosen rate. The canvas carries
//! `data-frame` and `data-frame-count` so tests and assistive tools can follow.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::canvas::paint_rgba;

/// RGBA frames back to back.
pub struct Frames {
    pub count: usize,
    pub width: usize,
    pub height: usize,
    pub rgba: Vec<u8>,
}

/// One looping animation per canvas; starting another replaces it.
#[derive(Clone, Default)]
pub struct Player {
    interval: Rc<RefCell<Option<i32>>>,
}

impl Player {
    pub fn play(&self, canvas: &web_sys::HtmlCanvasElement, frames: Frames, fps: f64) {
        let Some(window) = web_sys::window() else { return };
        self.stop();
        let _ = canvas.set_attribute("data-frame-count", &frames.count.to_string());
        let frame_bytes = frames.width * frames.height * 4;
        let canvas = canvas.clone();
        let mut index = 0usize;
        let mut show = move || {
            let start = index * frame_bytes;
            if let Some(frame) = frames.rgba.get(start..start + frame_bytes) {
                let _ = paint_rgba(&canvas, frame, frames.width, frames.height);
                let _ = canvas.set_attribute("data-frame", &index.to_string());
            }
            index = (index + 1) % frames.count.max(1);
        };
        show();
        let tick = Closure::<dyn FnMut()>::new(show);
        let period = (1000.0 / fps.clamp(1.0, 60.0)) as i32;
        if let Ok(id) = window.set_interval_with_callback_and_timeout_and_arguments_0(tick.as_ref().unchecked_ref(), period) {
            *self.interval.borrow_mut() = Some(id);
        }
        tick.forget();
    }

    pub fn stop(&self) {
        if let (Some(window), Some(id)) = (web_sys::window(), self.interval.borrow_mut().take()) {
            window.clear_interval_with_handle(id);
        }
    }
}
