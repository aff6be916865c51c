//! A token's assets (with Apple's counts and cached metadata) and licenses.

use std::collections::BTreeSet;

use haishin_domain::ids::{AccountId, VppTokenId};
use haishin_domain::time_util::Timestamp;
use haishin_domain::vpp::store::{AssetCounts, LicenseFilter, LicenseKey};
use haishin_domain::vpp::{AssetMetadata, License, LicenseTarget, VppAsset};

use crate::SqlStore;
use crate::sql::{Arg, DbResult, Query, Result, text};

#[derive(sqlx::FromRow)]
struct AssetRow {
    adam_id: String,
    pricing_param: String,
    product_type: String,
    revocable: i64,
    device_assignable: i64,
    platforms: String,
    total_count: i64,
    assigned_count: i64,
    available_count: i64,
    retired_count: i64,
    metadata: Option<String>,
}

impl From<AssetRow> for VppAsset {
    fn from(r: AssetRow) -> Self {
        VppAsset {
            adam_id: r.adam_id,
            pricing_param: r.pricing_param,
            product_type: r.product_type,
            revocable: r.revocable != 0,
            device_assignable: r.device_assignable != 0,
            platforms: serde_json::from_str(&r.platforms).unwrap_or_default(),
            total_count: r.total_count,
            assigned_count: r.assigned_count,
            available_count: r.available_count,
            retired_count: r.retired_count,
            metadata: r.metadata.and_then(|m| serde_json::from_str(&m).ok()),
            low_on_licenses: false,
            counts_differ: false,
        }
    }
}

#[derive(sqlx::FromRow)]
struct LicenseRow {
    token_id: i64,
    adam_id: String,
    pricing_param: String,
    target_kind: String,
    target_id: String,
    auto_assigned: i64,
    assigned_at: i64,
}

fn key_of(r: &LicenseRow) -> Option<LicenseKey> {
    Some(LicenseKey {
        adam_id: r.adam_id.clone(),
        pricing_param: r.pricing_param.clone(),
        target: LicenseTarget::from_parts(&r.target_kind, r.target_id.clone())?,
    })
}

impl SqlStore {
    pub(crate) async fn write_vpp_assets(&self, token: VppTokenId, assets: &[VppAsset]) -> Result<()> {
        let mut tx = self.write.begin().await.db()?;
        let mut q = Query::new("SELECT adam_id, pricing_param FROM vpp_assets WHERE ");
        q.push_arg("token_id = {}", Arg::Int(token.0));
        let existing: Vec<(String, String)> = q.as_query_as().fetch_all(&mut *tx).await.db()?;
        let listed: BTreeSet<(&str, &str)> = assets
            .iter()
            .map(|a| (a.adam_id.as_str(), a.pricing_param.as_str()))
            .collect();
        for (adam_id, pricing) in &existing {
            if !listed.contains(&(adam_id.as_str(), pricing.as_str())) {
                let mut q = Query::new("DELETE FROM vpp_assets WHERE ");
                q.push_arg("token_id = {}", Arg::Int(token.0))
                    .push_arg(" AND adam_id = {}", text(adam_id))
                    .push_arg(" AND pricing_param = {}", text(pricing));
                q.as_query().execute(&mut *tx).await.db()?;
            }
        }
        for a in assets {
            let mut q = Query::new(
                "INSERT INTO vpp_assets (token_id, adam_id, pricing_param, product_type, revocable, device_assignable, \
                 platforms, total_count, assigned_count, available_count, retired_count, metadata) VALUES (",
            );
            let values = q.args([
                Arg::Int(token.0),
                text(&a.adam_id),
                text(&a.pricing_param),
                text(&a.product_type),
                Arg::Int(a.revocable as i64),
                Arg::Int(a.device_assignable as i64),
                Arg::Text(serde_json::to_string(&a.platforms).unwrap_or_default()),
                Arg::Int(a.total_count),
                Arg::Int(a.assigned_count),
                Arg::Int(a.available_count),
                Arg::Int(a.retired_count),
                Arg::OptText(
                    a.metadata
                        .as_ref()
                        .map(|m| serde_json::to_string(m).unwrap_or_default()),
                ),
            ]);
            // Metadata is kept when the new row has none: it comes from
            // another service, fetched separately.
            q.push(&values).push(
                ") ON CONFLICT (token_id, adam_id, pricing_param) DO UPDATE SET product_type = excluded.product_type, \
                 revocable = excluded.revocable, device_assignable = excluded.device_assignable, \
                 platforms = excluded.platforms, total_count = excluded.total_count, \
                 assigned_count = excluded.assigned_count, available_count = excluded.available_count, \
                 retired_count = excluded.retired_count, \
                 metadata = COALESCE(excluded.metadata, vpp_assets.metadata)",
            );
            q.as_query().execute(&mut *tx).await.db()?;
        }
        tx.commit().await.db()
    }

    pub(crate) async fn select_stale_metadata(&self, token: VppTokenId, before: Timestamp) -> Result<Vec<String>> {
        let mut q = Query::new("SELECT DISTINCT adam_id FROM vpp_assets WHERE ");
        q.push_arg("token_id = {}", Arg::Int(token.0))
            .push_arg(" AND metadata_fetched_at < {}", Arg::Int(before.0));
        q.as_scalar().fetch_all(&self.read).await.db()
    }

    pub(crate) async fn write_asset_metadata(
        &self,
        token: VppTokenId,
        adam_id: &str,
        metadata: &AssetMetadata,
        fetched_at: Timestamp,
    ) -> Result<()> {
        let mut q = Query::new("UPDATE vpp_assets SET ");
        q.push_arg(
            "metadata = {}",
            Arg::Text(serde_json::to_string(metadata).unwrap_or_default()),
        )
        .push_arg(", metadata_fetched_at = {}", Arg::Int(fetched_at.0))
        .push_arg(" WHERE token_id = {}", Arg::Int(token.0))
        .push_arg(" AND adam_id = {}", text(adam_id));
        q.as_query().execute(&self.write).await.db()?;
        Ok(())
    }

    pub(crate) async fn write_asset_counts(
        &self,
        token: VppTokenId,
        adam_id: &str,
        pricing_param: &str,
        counts: &AssetCounts,
    ) -> Result<()> {
        let mut q = Query::new("UPDATE vpp_assets SET ");
        q.push_arg("total_count = {}", Arg::Int(counts.total))
            .push_arg(", assigned_count = {}", Arg::Int(counts.assigned))
            .push_arg(", available_count = {}", Arg::Int(counts.available))
            .push_arg(", retired_count = {}", Arg::Int(counts.retired))
            .push_arg(" WHERE token_id = {}", Arg::Int(token.0))
            .push_arg(" AND adam_id = {}", text(adam_id))
            .push_arg(" AND pricing_param = {}", text(pricing_param));
        q.as_query().execute(&self.write).await.db()?;
        Ok(())
    }

    pub(crate) async fn select_vpp_assets(&self, account: AccountId, token: VppTokenId) -> Result<Vec<VppAsset>> {
        let mut q = Query::new(
            "SELECT a.adam_id, a.pricing_param, a.product_type, a.revocable, a.device_assignable, a.platforms, \
             a.total_count, a.assigned_count, a.available_count, a.retired_count, a.metadata \
             FROM vpp_assets a JOIN vpp_tokens t ON t.id = a.token_id WHERE ",
        );
        q.push_arg("a.token_id = {}", Arg::Int(token.0))
            .push_arg(" AND t.account_id = {}", Arg::Int(account.0))
            .push(" ORDER BY a.adam_id, a.pricing_param");
        let rows: Vec<AssetRow> = q.as_query_as().fetch_all(&self.read).await.db()?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    pub(crate) async fn insert_licenses(&self, account: AccountId, licenses: &[License]) -> Result<u64> {
        let mut added = 0;
        let mut tx = self.write.begin().await.db()?;
        for chunk in licenses.chunks(self.backend.values_per_lookup() / 8) {
            let mut q = Query::new(
                "INSERT INTO vpp_licenses (token_id, account_id, adam_id, pricing_param, target_kind, target_id, \
                 auto_assigned, assigned_at) VALUES ",
            );
            let rows: Vec<String> = chunk
                .iter()
                .map(|l| {
                    format!(
                        "({})",
                        q.args([
                            Arg::Int(l.token_id.0),
                            Arg::Int(account.0),
                            text(&l.adam_id),
                            text(&l.pricing_param),
                            text(l.target.kind()),
                            text(l.target.id()),
                            Arg::Int(l.auto_assigned as i64),
                            Arg::Int(l.assigned_at.0),
                        ])
                    )
                })
                .collect();
            q.push(&rows.join(", "))
                .push(" ON CONFLICT (token_id, adam_id, pricing_param, target_kind, target_id) DO NOTHING");
            added += q.as_query().execute(&mut *tx).await.db()?.rows_affected();
        }
        tx.commit().await.db()?;
        Ok(added)
    }

    pub(crate) async fn delete_licenses(&self, token: VppTokenId, keys: &[LicenseKey]) -> Result<u64> {
        let mut removed = 0;
        let mut tx = self.write.begin().await.db()?;
        for key in keys {
            let mut q = Query::new("DELETE FROM vpp_licenses WHERE ");
            q.push_arg("token_id = {}", Arg::Int(token.0))
                .push_arg(" AND adam_id = {}", text(&key.adam_id))
                .push_arg(" AND pricing_param = {}", text(&key.pricing_param))
                .push_arg(" AND target_kind = {}", text(key.target.kind()))
                .push_arg(" AND target_id = {}", text(key.target.id()));
            removed += q.as_query().execute(&mut *tx).await.db()?.rows_affected();
        }
        tx.commit().await.db()?;
        Ok(removed)
    }

    pub(crate) async fn sync_licenses(
        &self,
        account: AccountId,
        token: VppTokenId,
        licenses: &[LicenseKey],
    ) -> Result<(u64, u64)> {
        let mut q = Query::new(
            "SELECT token_id, adam_id, pricing_param, target_kind, target_id, auto_assigned, assigned_at \
             FROM vpp_licenses WHERE ",
        );
        q.push_arg("token_id = {}", Arg::Int(token.0));
        let rows: Vec<LicenseRow> = q.as_query_as().fetch_all(&self.read).await.db()?;
        let known: BTreeSet<LicenseKey> = rows.iter().filter_map(key_of).collect();
        let wanted: BTreeSet<&LicenseKey> = licenses.iter().collect();
        let gone: Vec<LicenseKey> = known.iter().filter(|k| !wanted.contains(k)).cloned().collect();
        let now = Timestamp::now();
        let new: Vec<License> = licenses
            .iter()
            .filter(|k| !known.contains(k))
            .map(|k| License {
                token_id: token,
                adam_id: k.adam_id.clone(),
                pricing_param: k.pricing_param.clone(),
                target: k.target.clone(),
                auto_assigned: false,
                assigned_at: now,
            })
            .collect();
        let added = self.insert_licenses(account, &new).await?;
        let removed = self.delete_licenses(token, &gone).await?;
        Ok((added, removed))
    }

    pub(crate) async fn count_licenses(
        &self,
        account: AccountId,
        token: VppTokenId,
    ) -> Result<Vec<(String, String, i64)>> {
        let mut q = Query::new("SELECT adam_id, pricing_param, COUNT(*) FROM vpp_licenses WHERE ");
        q.push_arg("account_id = {}", Arg::Int(account.0))
            .push_arg(" AND token_id = {}", Arg::Int(token.0))
            .push(" GROUP BY adam_id, pricing_param");
        q.as_query_as().fetch_all(&self.read).await.db()
    }

    pub(crate) async fn select_licenses(&self, account: AccountId, filter: &LicenseFilter) -> Result<Vec<License>> {
        let mut q = Query::new(
            "SELECT token_id, adam_id, pricing_param, target_kind, target_id, auto_assigned, assigned_at \
             FROM vpp_licenses WHERE ",
        );
        q.push_arg("account_id = {}", Arg::Int(account.0));
        if let Some(token) = filter.token_id {
            q.push_arg(" AND token_id = {}", Arg::Int(token.0));
        }
        if let Some(adam_id) = &filter.adam_id {
            q.push_arg(" AND adam_id = {}", text(adam_id));
        }
        if let Some(target) = &filter.target {
            q.push_arg(" AND target_kind = {}", text(target.kind()))
                .push_arg(" AND target_id = {}", text(target.id()));
        }
        q.push_arg(
            " ORDER BY token_id, adam_id, target_kind, target_id LIMIT {}",
            Arg::Int(filter.limit.unwrap_or(10_000).clamp(1, 10_000_000)),
        );
        let rows: Vec<LicenseRow> = q.as_query_as().fetch_all(&self.read).await.db()?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let Some(target) = LicenseTarget::from_parts(&r.target_kind, r.target_id) else {
                continue;
            };
            out.push(License {
                token_id: VppTokenId(r.token_id),
                adam_id: r.adam_id,
                pricing_param: r.pricing_param,
                target,
                auto_assigned: r.auto_assigned != 0,
                assigned_at: Timestamp(r.assigned_at),
            });
        }
        Ok(out)
    }
}
