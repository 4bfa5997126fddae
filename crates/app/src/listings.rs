//! Listing use cases: each step of the procedure is checked by the pure rules of
//! `core::listing` and then recorded by the store as one ledger event.

use time::Date;
use xinyong_core::calendar::WorkCalendar;
use xinyong_core::event::{EventKind, Provenance};
use xinyong_core::listing::{self, Before, Decision, Listing, Notice, Removal};
use xinyong_core::lists::ListRules;
use xinyong_ledger::SignedHead;

use crate::{App, AppError, Result, now_ms};

/// Who records a step and through which channel (`api`, `portal`, `demo`, `cli`).
#[derive(Debug, Clone)]
pub struct Actor {
    pub department: String,
    pub channel: String,
}

fn provenance(actor: &Actor) -> Provenance {
    let at = now_ms();
    Provenance {
        at,
        batch: format!("listing-{at}"),
        provider: actor.department.clone(),
        source: actor.channel.clone(),
        row: None,
    }
}

fn refused(e: Vec<listing::StepError>) -> AppError {
    AppError::Refused(e.iter().map(|e| e.to_string()).collect())
}

fn stored(app: &App, id: i64) -> Result<Listing> {
    app.store.listing(id)?.ok_or_else(|| AppError::NotFound(format!("名单记录 {id} / listing {id}")))
}

fn put(app: &mut App, l: &Listing, kind: EventKind, actor: &Actor) -> Result<(Listing, SignedHead)> {
    let now = now_ms();
    Ok(app.store.put_listing(l, kind, &provenance(actor), &app.key, now)?)
}

/// Prior notice of an intended listing (the first step).
pub fn notice(app: &mut App, n: Notice, actor: &Actor, today: Date) -> Result<(Listing, SignedHead)> {
    let l = listing::notice(ListRules::bundled(), WorkCalendar::official(), n, today).map_err(refused)?;
    put(app, &l, EventKind::ListingNoticed, actor)
}

/// The subject's objection within the window.
pub fn object(app: &mut App, id: i64, date: Date, text: &str, actor: &Actor, today: Date) -> Result<(Listing, SignedHead)> {
    let current = stored(app, id)?;
    let l = listing::object(&current, date, text, today).map_err(refused)?;
    put(app, &l, EventKind::ListingObjected, actor)
}

/// The decision on a noticed listing (`Ok(id)`), or a direct decision (`Err(notice)`:
/// only for list types that need no notice).
pub fn decide(
    app: &mut App,
    on: std::result::Result<i64, Notice>,
    d: Decision,
    actor: &Actor,
    today: Date,
) -> Result<(Listing, SignedHead)> {
    let rules = ListRules::bundled();
    let l = match on {
        Ok(id) => {
            let current = stored(app, id)?;
            listing::decide(rules, Before::Noticed(&current), d, today)
        }
        Err(n) => listing::decide(rules, Before::Direct(n), d, today),
    }
    .map_err(refused)?;
    put(app, &l, EventKind::ListingDecided, actor)
}

/// Removal of a listed entry, or withdrawal of a noticed one.
pub fn remove(app: &mut App, id: i64, r: Removal, actor: &Actor, today: Date) -> Result<(Listing, SignedHead)> {
    let current = stored(app, id)?;
    let l = listing::remove(ListRules::bundled(), &current, r, today).map_err(refused)?;
    put(app, &l, EventKind::ListingRemoved, actor)
}
