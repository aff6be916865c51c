//! Picking and ranking the rows for one job.

use apple_mdm::ErrorChain;
use serde::Serialize;

use super::facts::{Finding, ServerFacts};
use super::rows::ROWS;
use super::{CodeMatch, Fact, KnowledgeRow, Situation, Trigger};
use crate::jobs::JobStatus;

/// Why a row was listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    /// Its error codes are all in the device's ErrorChain.
    Chain,
    /// A server fact brought it up (its trigger, or the fact that confirms it).
    Fact,
    /// The job's status alone: the seed lists it as a possible cause.
    Status,
    /// A device error no code row recognises: the seed's catch-all causes.
    UnlistedDeviceError,
    /// The seed's general checks for any failed job.
    Advice,
}

/// One row that fits the job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RowMatch {
    pub row: KnowledgeRow,
    pub matched_by: MatchedBy,
    /// The server fact that points at this cause for this device, if any.
    pub confirmed_by: Option<Fact>,
}

/// What the job detail shows under a failed (or app-less) job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Diagnosis {
    pub status: JobStatus,
    /// The chain in one line, outermost first, as the device sent it.
    pub error_chain: Option<String>,
    /// Most specific first: ErrorChain matches, then rows a fact points at,
    /// then the status's possible causes, catch-alls and general advice.
    pub matches: Vec<RowMatch>,
    pub findings: Vec<Finding>,
}

fn chain_has_all(chain: Option<&ErrorChain>, codes: &[CodeMatch]) -> bool {
    chain.is_some_and(|chain| codes.iter().all(|code| chain.iter().any(|item| code.matches(item))))
}

/// Matches the knowledge base against a job. `error_chain` is the chain of
/// the device's `Error` report, if there was one.
pub fn diagnose(status: JobStatus, error_chain: Option<&ErrorChain>, facts: &ServerFacts) -> Diagnosis {
    let error_chain = error_chain.filter(|chain| !chain.is_empty());
    let chain_recognised = ROWS.iter().any(|row| match row.rule.trigger {
        Trigger::Chain(codes) => row.situation.applies_to(status) && chain_has_all(error_chain, codes),
        _ => false,
    });

    let mut ranked: Vec<((u8, bool, usize, usize), RowMatch)> = Vec::new();
    for (index, row) in ROWS.iter().enumerate() {
        let unconfirmed_install = row.situation == Situation::SuccessWithoutApp
            && status == JobStatus::DeviceError
            && facts.install_not_confirmed;
        if !row.situation.applies_to(status) && !unconfirmed_install {
            continue;
        }
        let confirmed_by = row.rule.confirmed_by.filter(|&fact| facts.holds(fact, error_chain));
        let (triggered, by, codes) = match row.rule.trigger {
            Trigger::Chain(codes) => (chain_has_all(error_chain, codes), MatchedBy::Chain, codes.len()),
            Trigger::Fact(fact) => (facts.holds(fact, error_chain), MatchedBy::Fact, 0),
            Trigger::Status => (true, MatchedBy::Status, 0),
            Trigger::UnlistedDeviceError => (!chain_recognised, MatchedBy::UnlistedDeviceError, 0),
            Trigger::Advice => (true, MatchedBy::Advice, 0),
        };
        let matched_by = match (triggered, confirmed_by) {
            // A confirmed status or catch-all row is as specific as a fact row.
            (true, Some(_)) if by > MatchedBy::Fact => MatchedBy::Fact,
            (true, _) => by,
            // A code row is about its error only, whatever else the server knows.
            (false, Some(_)) if by != MatchedBy::Chain => MatchedBy::Fact,
            (false, _) => continue,
        };
        let key = (matched_by as u8, confirmed_by.is_none(), usize::MAX - codes, index);
        ranked.push((
            key,
            RowMatch {
                row: *row,
                matched_by,
                confirmed_by,
            },
        ));
    }
    ranked.sort_by_key(|(key, _)| *key);

    Diagnosis {
        status,
        error_chain: error_chain.map(ErrorChain::summary),
        matches: ranked.into_iter().map(|(_, m)| m).collect(),
        findings: facts.findings(error_chain),
    }
}

impl Diagnosis {
    /// The ids of the matched rows, in order.
    pub fn row_ids(&self) -> Vec<&'static str> {
        self.matches.iter().map(|m| m.row.id).collect()
    }

    pub fn finding(&self, kind: Fact) -> Option<&Finding> {
        self.findings.iter().find(|f| f.kind == kind)
    }
}
