//! The page's end of the worker: starts it, numbers the page's requests (job ids), holds
//! requests until it says Ready, and hands every message it sends to one handler.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{MessageEvent, Worker};

use crate::protocol::{decode, encode, FromWorker, JobId, ToWorker};

/// A decoded message and the bytes that came beside it (frames for Preview and Done).
pub type Handler = Rc<dyn Fn(Result<FromWorker, String>, Option<Vec<u8>>)>;

#[derive(Clone)]
pub struct Client {
    worker: Rc<RefCell<Option<Worker>>>,
    ready: Rc<Cell<bool>>,
    pending: Rc<RefCell<Vec<String>>>,
    /// The last job id given out.
    jobs: Rc<Cell<u64>>,
    handler: Handler,
}

impl Client {
    pub fn new(handler: Handler) -> Self {
        Self { worker: Rc::default(), ready: Rc::default(), pending: Rc::default(), jobs: Rc::default(), handler }
    }

    /// A fresh id for the next request (ids are never reused, across restarts too).
    pub fn next_job(&self) -> JobId {
        self.jobs.set(self.jobs.get() + 1);
        JobId(self.jobs.get())
    }

    /// Sends a message, starting the worker on first use.
    pub fn send(&self, message: &ToWorker) -> Result<(), String> {
        if self.worker.borrow().is_none() {
            *self.worker.borrow_mut() = Some(self.start()?);
        }
        let text = encode(message);
        match self.worker.borrow().as_ref() {
            Some(w) if self.ready.get() => w.post_message(&text.into()).map_err(|e| format!("{e:?}")),
            _ => {
                self.pending.borrow_mut().push(text);
                Ok(())
            }
        }
    }

    /// Ends the worker (and everything it holds on the GPU); the next send starts a fresh one.
    pub fn restart(&self) {
        if let Some(w) = self.worker.borrow_mut().take() {
            w.terminate();
        }
        self.ready.set(false);
        self.pending.borrow_mut().clear();
    }

    fn start(&self) -> Result<Worker, String> {
        let worker = Worker::new("./worker_loader.js").map_err(|e| format!("{e:?}"))?;
        let this = self.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let data = event.data();
            let json = js_sys::Reflect::get(&data, &"json".into()).ok().and_then(|v| v.as_string()).unwrap_or_default();
            let message = decode::<FromWorker>(&json).map_err(|e| e.message);
            match message {
                Ok(FromWorker::Ready) => {
                    this.ready.set(true);
                    if let Some(w) = this.worker.borrow().as_ref() {
                        for text in this.pending.borrow_mut().drain(..) {
                            let _ = w.post_message(&text.into());
                        }
                    }
                    return;
                }
                // A crashed worker can do no more work: end it; the next send starts a new one.
                Ok(FromWorker::Crashed { .. }) => this.restart(),
                _ => {}
            }
            let bytes = js_sys::Reflect::get(&data, &"pixels".into()).ok().filter(|v| !v.is_undefined()).map(|p| js_sys::Uint8Array::new(&p).to_vec());
            (this.handler)(message, bytes);
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget(); // lives as long as the page
                             // An uncaught error in the worker (its script failed to load, say) surfaces here: the
                             // worker is ended so the next request starts a fresh one, and the page is told.
        let this = self.clone();
        let on_error = Closure::<dyn FnMut(web_sys::ErrorEvent)>::new(move |event: web_sys::ErrorEvent| {
            this.restart();
            (this.handler)(Ok(FromWorker::Crashed { job: None, message: event.message() }), None)
        });
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        on_error.forget();
        Ok(worker)
    }
}
