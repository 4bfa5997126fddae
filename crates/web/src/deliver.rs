//! Webhook deliveries: every few seconds, the notifications due for machine recipients
//! are POSTed (JSON, signed `X-Xinyong-Signature: sha256=…`), and each attempt is
//! recorded by the app (delivered, retried with back-off, or given up). The outbox
//! rows are the truth; this loop only moves them.

use std::time::Duration;

use xinyong_app::cases::{DeliveryBody, delivery_signature};

use crate::AppState;

const EVERY: Duration = Duration::from_secs(2);
const TIMEOUT: Duration = Duration::from_secs(10);
const PER_ROUND: u32 = 100;

pub(crate) fn spawn(state: std::sync::Weak<AppState>) {
    let client = match reqwest::Client::builder().timeout(TIMEOUT).build() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "webhook client could not be built: deliveries stay in the inbox");
            return;
        }
    };
    tokio::spawn(crate::every(state, EVERY, move |app| round(client.clone(), app)));
}

/// One round: the due deliveries sent, each attempt recorded.
async fn round(client: reqwest::Client, app: xinyong_app::App) {
    let due = match tokio::task::spawn_blocking({
        let app = app.clone();
        move || app.due_deliveries(PER_ROUND)
    })
    .await
    {
        Ok(Ok(due)) => due,
        Ok(Err(e)) => {
            tracing::warn!(error = %e.chain(), "reading due deliveries failed");
            return;
        }
        Err(_) => return,
    };
    for d in due {
        let n = &d.notification;
        let body = DeliveryBody {
            id: n.id,
            topic: &n.topic,
            subject_code: &n.subject_code,
            text_zh: &n.text_zh,
            text_en: &n.text_en,
            ledger_index: n.event_index,
            created_ms: n.created_ms,
        };
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        let sent = client
            .post(&d.url)
            .header("content-type", "application/json")
            .header("x-xinyong-signature", delivery_signature(&d.secret, &bytes))
            .header("x-xinyong-delivery", n.id.to_string())
            .body(bytes)
            .send()
            .await;
        let error = match sent {
            Ok(r) if r.status().is_success() => None,
            Ok(r) => Some(format!("HTTP {}", r.status().as_u16())),
            Err(e) => Some(e.to_string()),
        };
        let app = app.clone();
        let id = n.id;
        let recorded = tokio::task::spawn_blocking(move || app.record_delivery(id, error.as_deref())).await;
        if let Ok(Err(e)) = recorded {
            tracing::warn!(error = %e.chain(), id, "recording a delivery failed");
        }
    }
}
