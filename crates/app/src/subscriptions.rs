//! Subscriptions for banks and credit agencies (信易贷, 可用不可见): an agency subscribes
//! to the subjects it has a documented relation with (a loan application, a contract),
//! reads their deltas — removals, repairs and revocations among them — and acknowledges
//! the ones it applied to what it re-publishes; the entity sees who applied its repair
//! and when. And a k-anonymous list check: the agency sends a short prefix of a code's
//! hash and gets the hashes of the list entries behind it, so the platform does not
//! learn whom it checked.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use xinyong_core::SubjectCode;
use xinyong_core::catalog::Disclosure;
use xinyong_core::event::{EventBody, EventKind, Provenance};
use xinyong_core::exchange::{self as rules, Delta, Op, Target};
use xinyong_core::lists::ListRules;
use xinyong_store::{ExchangeDoc, Expect, ListingFilter, Store};

use crate::access::{Action, Caller, permit};
use crate::{App, AppError, Result, now_ms};

/// An agency's subscriptions are documents of kind `subscription:<agency>`, so its feed
/// reads its own and no one else's.
fn subscription_kind(agency: &str) -> String {
    format!("subscription:{agency}")
}
const ACK: &str = "ack";
/// Events scanned per feed request: a request's cost is bounded, the cursor goes on.
const FEED_SCAN: u64 = 100_000;
/// The shortest and longest hash prefix a k-anonymous check may send (hex digits):
/// shorter would send back too much, longer would name the subject.
const PREFIX_MIN: usize = 4;
const PREFIX_MAX: usize = 6;

/// An agency's subscription to one subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Subscription {
    /// The agency's account.
    pub agency: String,
    pub subject: String,
    /// Why it follows the subject (贷款审批, 贷后管理 …).
    pub purpose: String,
    /// The documented relation (a loan application's number, a contract's).
    pub relation: String,
    pub opened_at_ms: i64,
    /// This platform's ledger index of the `subscription.opened` event.
    pub ledger_index: u64,
}

/// What an agency asks for when it subscribes.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct SubscriptionRequest {
    pub subject: String,
    pub purpose: String,
    pub relation: String,
}

/// A page of an agency's feed: the deltas of its subjects in `since..until`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Feed {
    pub since: u64,
    /// The next request's `since`.
    pub until: u64,
    /// The latest signed checkpoint: each delta's `index` can be proven against it
    /// (`GET /api/v1/ledger/proof/{index}`).
    pub checkpoint: Option<String>,
    pub deltas: Vec<Delta>,
}

/// An agency's acknowledgement of deltas it applied.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct AcknowledgementRequest {
    /// The `index` of each delta applied (repairs, revocations, removals).
    pub indexes: Vec<u64>,
}

/// A re-publisher's application of a delta that ended an entry's use, as the entity
/// sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Republication {
    pub agency: String,
    /// The delta's ledger index.
    pub index: u64,
    pub op: Op,
    pub target: Target,
    /// The catalog item or list type.
    pub item: String,
    pub applied_at_ms: i64,
    /// The day it was acknowledged (Asia/Shanghai).
    #[schema(format = Date)]
    pub applied_on: String,
}

/// What an acknowledgement recorded.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Acknowledged {
    pub applied: Vec<Republication>,
    pub ledger_index: u64,
}

/// A list entry behind a hash prefix.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HashedEntry {
    /// Lowercase hex SHA-256 of the subject's code.
    pub subject_sha256: String,
    pub list_type: String,
}

/// The answer to a k-anonymous list check.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RangeAnswer {
    pub prefix: String,
    #[schema(format = Date)]
    pub as_of: String,
    pub entries: Vec<HashedEntry>,
}

fn sub_id(agency: &str, code: &str) -> String {
    format!("subscription:{agency}|{code}")
}

fn agency_of(caller: &Caller) -> Result<String> {
    permit(caller, Action::Subscribe)?;
    caller.account().map(|a| a.username.clone()).ok_or(AppError::Unauthenticated)
}

fn provenance(agency: &str) -> Provenance {
    let at = now_ms();
    Provenance { at, batch: format!("subscription-{at}"), provider: agency.into(), source: "api".into(), row: None }
}

fn json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| AppError::Internal(e.to_string()))
}

fn parse<T: for<'a> Deserialize<'a>>(d: &ExchangeDoc) -> Result<T> {
    serde_json::from_str(&d.body).map_err(|e| AppError::Internal(format!("{}: {e}", d.id)))
}

/// Lowercase hex SHA-256 of a subject's code, as agencies compute it.
pub fn code_hash(code: &str) -> String {
    xinyong_ledger::hex(&Sha256::digest(code.as_bytes()).into())
}

impl App {
    /// Subscribes the calling agency to a subject, naming its purpose and relation.
    /// Subscribing again renews the purpose and relation.
    pub fn subscribe(&self, caller: &Caller, req: &SubscriptionRequest) -> Result<Subscription> {
        let agency = agency_of(caller)?;
        let code = crate::parse_code(&req.subject)?;
        let (purpose, relation) = (req.purpose.trim(), req.relation.trim());
        if purpose.is_empty() || relation.is_empty() {
            return Err(AppError::invalid(
                "purpose_required",
                "订阅须说明用途和业务关系（如贷款申请编号）",
                "a subscription states its purpose and the relation (e.g. a loan application's number)",
            ));
        }
        let id = sub_id(&agency, code.key());
        let (known, existing) = self.db().read(|s| Ok((s.subject(code.key())?.is_some(), s.exchange_doc(&id)?)))?;
        if !known {
            return Err(AppError::NotFound(format!("主体 / subject {}", code.key())));
        }
        let facts = BTreeMap::from([
            ("agency".to_string(), agency.clone()),
            ("purpose".to_string(), purpose.to_string()),
            ("relation".to_string(), relation.to_string()),
        ]);
        let event = EventBody::exchange(EventKind::SubscriptionOpened, code.key(), &id, facts, &provenance(&agency));
        let mut sub = Subscription {
            agency,
            subject: code.key().to_string(),
            purpose: purpose.to_string(),
            relation: relation.to_string(),
            opened_at_ms: now_ms(),
            ledger_index: 0,
        };
        let expect = Expect { id: id.clone(), at: existing.map(|d| d.event) };
        let doc = ExchangeDoc {
            kind: subscription_kind(&sub.agency),
            id,
            subject: sub.subject.clone(),
            body: json(&sub)?,
            event: 0,
        };
        let (index, _) =
            self.db().write(|s| Ok(s.put_exchange_docs(&[doc], Some(&expect), &event, self.key(), now_ms())?))?;
        sub.ledger_index = index;
        self.after_write();
        Ok(sub)
    }

    /// The calling agency's subscriptions.
    pub fn subscriptions(&self, caller: &Caller) -> Result<Vec<Subscription>> {
        let agency = agency_of(caller)?;
        self.agency_subscriptions(&agency)
    }

    fn agency_subscriptions(&self, agency: &str) -> Result<Vec<Subscription>> {
        let docs = self.db().read(|s| Ok(s.exchange_docs(&subscription_kind(agency), None)?))?;
        docs.iter()
            .map(|d| {
                let mut s: Subscription = parse(d)?;
                s.ledger_index = d.event;
                Ok(s)
            })
            .collect()
    }

    /// What an agency may receive of a delta: everything about a listing of a public
    /// list type, a record of a public item; and every end of use of those.
    fn agency_sees(&self, d: &Delta) -> bool {
        match d.target {
            Target::Record => self.catalog().item(&d.item).is_some_and(|i| i.disclosure == Disclosure::Public),
            Target::Listing => ListRules::bundled().list_type(&d.item).is_some_and(|t| t.public),
        }
    }

    /// The deltas of the calling agency's subjects from ledger index `since` on, at most
    /// `FEED_SCAN` events further; `until` is where the next request starts.
    pub fn feed(&self, caller: &Caller, since: u64) -> Result<Feed> {
        let agency = agency_of(caller)?;
        let subjects: BTreeSet<String> = self.agency_subscriptions(&agency)?.into_iter().map(|s| s.subject).collect();
        let (size, head) = self.db().read(|s| Ok((s.ledger_size()?, s.latest_head()?)))?;
        let until = size.min(since.saturating_add(FEED_SCAN)).max(since);
        let mut deltas = Vec::new();
        if !subjects.is_empty() {
            self.db().read(|s| {
                self.for_each_delta(s, since, until, &mut |d| {
                    if subjects.contains(&d.subject) && self.agency_sees(&d) {
                        deltas.push(d);
                    }
                    Ok(())
                })
            })?;
        }
        Ok(Feed { since, until, checkpoint: head.map(|h| h.checkpoint), deltas })
    }

    /// Records that the calling agency applied the deltas at `indexes`: each must end
    /// an entry's use (repair, revocation, removal) of a subject it subscribes to.
    pub fn acknowledge(&self, caller: &Caller, req: &AcknowledgementRequest) -> Result<Acknowledged> {
        let agency = agency_of(caller)?;
        if req.indexes.is_empty() || req.indexes.len() > 1_000 {
            return Err(AppError::invalid("indexes", "须列出 1–1000 个增量序号", "name 1–1000 delta indexes"));
        }
        let subjects: BTreeSet<String> = self.agency_subscriptions(&agency)?.into_iter().map(|s| s.subject).collect();
        let at = now_ms();
        let mut applied = Vec::new();
        let on = xinyong_core::record::date_string(crate::today_shanghai());
        let events = self.db().read(|s| req.indexes.iter().map(|&i| Ok(s.event(i)?)).collect::<Result<Vec<_>>>())?;
        for (&index, event) in req.indexes.iter().zip(events) {
            let delta = event
                .and_then(|e| EventBody::from_bytes(&e.payload).ok())
                .and_then(|b| rules::delta_of(index, &b, |item| self.catalog().item(item).is_some()));
            let Some(d) = delta.filter(|d| d.op.ends_use() && subjects.contains(&d.subject) && self.agency_sees(d))
            else {
                return Err(AppError::invalid(
                    "indexes",
                    format!("序号 {index} 不是本机构订阅主体的修复、撤销或移出增量"),
                    format!("index {index} is not a repair, revocation or removal of a subject you subscribe to"),
                ));
            };
            applied.push((
                d.subject.clone(),
                Republication {
                    agency: agency.clone(),
                    index,
                    op: d.op,
                    target: d.target,
                    item: d.item,
                    applied_at_ms: at,
                    applied_on: on.clone(),
                },
            ));
        }
        let mut docs = Vec::with_capacity(applied.len());
        for (subject, r) in &applied {
            docs.push(ExchangeDoc {
                kind: ACK.into(),
                id: format!("ack:{agency}|{}", r.index),
                subject: subject.clone(),
                body: json(r)?,
                event: 0,
            });
        }
        let indexes: Vec<String> = req.indexes.iter().map(u64::to_string).collect();
        let facts =
            BTreeMap::from([("agency".to_string(), agency.clone()), ("indexes".to_string(), indexes.join(","))]);
        let event = EventBody::exchange(
            EventKind::SubscriptionAcknowledged,
            "",
            &format!("ack:{agency}"),
            facts,
            &provenance(&agency),
        );
        let (ledger_index, _) =
            self.db().write(|s| Ok(s.put_exchange_docs(&docs, None, &event, self.key(), now_ms())?))?;
        Ok(Acknowledged { applied: applied.into_iter().map(|(_, r)| r).collect(), ledger_index })
    }

    /// Which re-publishers applied this subject's repairs, revocations and removals.
    pub(crate) fn republications_of(&self, store: &dyn Store, code: &str) -> Result<Vec<Republication>> {
        store.exchange_docs(ACK, Some(code))?.iter().map(parse).collect()
    }

    /// The k-anonymous list check: entries in force today whose subject's code hashes
    /// (SHA-256, hex) to `prefix…`. Public list types for anyone; shared types for
    /// agencies and staff.
    pub fn list_range(&self, caller: &Caller, prefix: &str) -> Result<RangeAnswer> {
        let prefix = prefix.trim().to_ascii_lowercase();
        if !(PREFIX_MIN..=PREFIX_MAX).contains(&prefix.len()) || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(AppError::invalid(
                "prefix",
                format!("前缀应为 {PREFIX_MIN}–{PREFIX_MAX} 位十六进制数字"),
                format!("the prefix must be {PREFIX_MIN}–{PREFIX_MAX} hex digits"),
            ));
        }
        let shared = permit(caller, Action::SharedLists).is_ok();
        let rules = ListRules::bundled();
        let today = crate::today_shanghai();
        let mut entries = Vec::new();
        let mut filter = ListingFilter {
            active_on: Some(xinyong_core::record::date_string(today)),
            limit: 10_000,
            ..ListingFilter::default()
        };
        loop {
            let page = self.db().read(|s| Ok(s.listings(&filter)?))?;
            let Some(last) = page.last() else { break };
            filter.after_id = last.id;
            entries.extend(
                page.iter()
                    .filter(|l| l.in_force_on(today))
                    .filter(|l| rules.list_type(&l.list_type).is_some_and(|t| t.public || shared))
                    .map(|l| HashedEntry { subject_sha256: code_hash(&l.subject), list_type: l.list_type.clone() })
                    .filter(|e| e.subject_sha256.starts_with(&prefix)),
            );
        }
        entries.sort_by(|a, b| (&a.subject_sha256, &a.list_type).cmp(&(&b.subject_sha256, &b.list_type)));
        entries.dedup_by(|a, b| a.subject_sha256 == b.subject_sha256 && a.list_type == b.list_type);
        Ok(RangeAnswer { prefix, as_of: xinyong_core::record::date_string(today), entries })
    }
}

/// Whether `code` is in `answer`, as an agency checks it on its side.
pub fn listed_in(answer: &RangeAnswer, code: &SubjectCode) -> Vec<String> {
    let h = code_hash(code.key());
    answer.entries.iter().filter(|e| e.subject_sha256 == h).map(|e| e.list_type.clone()).collect()
}
