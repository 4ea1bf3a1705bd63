//! Download progress: one bar over every file (bytes, speed, time left) and one bar per file.

use leptos::prelude::*;

use crate::protocol::DownloadProgress;
use crate::units::bytes;

/// "12.3 MB of 40.0 MB · 5.1 MB/s · about 5 s left" (no speed before the first bytes).
pub fn describe(p: &DownloadProgress) -> String {
    let received: f64 = p.files.iter().map(|f| f.received).sum();
    let total: f64 = p.files.iter().map(|f| f.total.max(f.received)).sum();
    let mut text = format!("{} of {}", bytes(received), bytes(total));
    if received > 0.0 && p.seconds > 0.0 {
        let speed = received / p.seconds;
        text.push_str(&format!(" · {}/s", bytes(speed)));
        if total > received {
            text.push_str(&format!(" · about {:.0} s left", (total - received) / speed));
        }
    }
    text
}

#[component]
pub fn Download(progress: RwSignal<Option<DownloadProgress>>) -> impl IntoView {
    let total = move || progress.with(|p| p.as_ref().map_or(1.0, |p| p.files.iter().map(|f| f.total.max(f.received)).sum::<f64>().max(1.0)));
    let received = move || progress.with(|p| p.as_ref().map_or(0.0, |p| p.files.iter().map(|f| f.received).sum::<f64>()));
    view! {
        <section class="download" hidden=move || progress.with(Option::is_none) aria-label="Model download">
            <div class="progress">
                <progress aria-label="Download progress" max=total value=received></progress>
                <span class="download-text">{move || progress.with(|p| p.as_ref().map(describe).unwrap_or_default())}</span>
            </div>
            <ul class="files">
                {move || progress.with(|p| p.as_ref().map(|p| p.files.clone()).unwrap_or_default()).into_iter().map(|f| {
                    let label = format!("Downloading {}", f.name);
                    let amount = if f.total > 0.0 { format!("{} / {}", bytes(f.received), bytes(f.total)) } else { bytes(f.received) };
                    view! {
                        <li>
                            <span class="file-name">{f.name.clone()}</span>
                            <progress aria-label=label max=f.total.max(f.received).max(1.0) value=f.received></progress>
                            <span class="file-bytes">{amount}</span>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
}
