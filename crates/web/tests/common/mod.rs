//! What the HTTP test binaries share: a data directory loaded with generated data,
//! accounts with tokens, and a server on a loopback port.
#![allow(dead_code, clippy::unwrap_used)] // each test binary uses a part

use std::path::Path;
use std::sync::Arc;

use xinyong_app::App;
use xinyong_app::synthetic::{GenManifest, GenOptions, generate};

pub const PASSWORD: &str = "correct horse battery";

/// Creates an account (password [`PASSWORD`]) and returns a new API token for it.
pub fn account(app: &App, username: &str, role: &str, provider: Option<&str>, subject: Option<&str>) -> String {
    let req = xinyong_app::accounts::NewAccountRequest {
        username: username.into(),
        display_name: Some(username.into()),
        role: role.into(),
        provider: provider.map(str::to_string),
        subject_code: subject.map(str::to_string),
        password: Some(PASSWORD.into()),
        token: true,
    };
    app.create_account(&xinyong_app::Caller::operator(), &req).unwrap().token.unwrap()
}

/// Generates `opts` into `dir/in` and imports every file into the data directory `dir/data`.
pub fn load(dir: &Path, opts: &GenOptions, provider: &str) -> (App, GenManifest) {
    load_with(dir, None, opts, provider)
}

/// As [`load`], into the store at `database` when given.
pub fn load_with(dir: &Path, database: Option<&str>, opts: &GenOptions, provider: &str) -> (App, GenManifest) {
    let input = dir.join("in");
    let manifest = generate(opts, &input).unwrap();
    let app = App::open_with(&dir.join("data"), database).unwrap();
    for f in &manifest.files {
        xinyong_app::intake::import_file(&app, &input.join(&f.file), &f.item, provider, &mut |_| {}).unwrap();
    }
    (app, manifest)
}

/// A server on a loopback port; stops when dropped.
pub struct Running {
    pub base: String,
    /// The server's own application (the same service its handlers call).
    pub app: App,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

pub async fn serve(data: &Path) -> Running {
    serve_with(data, None).await
}

/// A server on the store at `database` (PostgreSQL), or the SQLite file in `data`.
pub async fn serve_with(data: &Path, database: Option<&str>) -> Running {
    // opening reads the store (PostgreSQL's client is blocking): off the executor
    let (data_dir, db) = (data.to_path_buf(), database.map(str::to_string));
    let state = tokio::task::spawn_blocking(move || xinyong_web::AppState::open_with(&data_dir, db.as_deref()))
        .await
        .unwrap()
        .unwrap();
    let state = Arc::new(state);
    let app = state.app.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(xinyong_web::serve_on(listener, state, async move {
        let _ = rx.await;
    }));
    Running { base, app, stop: Some(stop) }
}
