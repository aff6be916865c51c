//! The legacy content-metadata lookup (reference §7.1) and the invitation link a
//! Registered user opens to link their Apple Account.

use std::collections::HashMap;
use std::sync::Arc;

use apple_vpp::{AppMetadata, Artwork, ArtworkImage, MetadataResponse, Offer, OfferAsset, OfferVersion};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use super::Shared;
use super::catalog::AppInfo;
use super::handle::accept;
use super::server::{empty, json};

pub(crate) const LOOKUP_PATH: &str = "/WebObjects/MZStorePlatform.woa/wa/lookup";
pub(crate) const INVITE_PATH: &str = "/WebObjects/MZFinance.woa/wa/associateVPPUserWithITSAccount";

/// The location whose sToken came as the `itvt` cookie, if that token is usable.
fn cookie_location(shared: &Shared, headers: &HeaderMap) -> Option<u64> {
    let token = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == "itvt")
        .map(|(_, value)| value.to_owned())?;
    let world = shared.world();
    let entry = world.tokens.get(&token)?;
    let live = !entry.revoked && entry.expires_at > OffsetDateTime::now_utc();
    let loc = world.locations.get(&entry.location)?;
    (live && !loc.deleted).then_some(loc.id)
}

pub(crate) async fn lookup(
    State(shared): State<Arc<Shared>>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    shared.counters().lookups += 1;
    let authorised = cookie_location(&shared, &headers);
    let ids: Vec<&str> = params
        .get("id")
        .map(|s| s.split(',').map(str::trim).filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    let mut response = MetadataResponse {
        version: Some(2),
        is_authenticated: Some(false),
        meta: Some(json!({
            "storefront": {"cc": params.get("cc").map_or("us".to_owned(), |c| c.to_ascii_lowercase())},
            "language": {"tag": params.get("l").map_or("en-us", String::as_str)},
        })),
        ..MetadataResponse::default()
    };
    {
        let world = shared.world();
        for id in ids {
            // Custom apps are visible only to the location that owns them.
            let found = world
                .locations
                .values()
                .filter(|l| !l.deleted)
                .flat_map(|l| l.assets.iter().map(move |a| (l.id, a)))
                .find(|(owner, a)| a.spec.adam_id == id && (!a.spec.metadata.b2b_custom || authorised == Some(*owner)));
            if let Some((_, asset)) = found {
                response
                    .results
                    .insert(id.to_owned(), metadata(id, &asset.spec.metadata));
            }
        }
    }
    match serde_json::to_value(&response) {
        Ok(v) => json(StatusCode::OK, &v, None),
        Err(_) => empty(StatusCode::INTERNAL_SERVER_ERROR),
    }
}

fn metadata(adam_id: &str, info: &AppInfo) -> AppMetadata {
    let numeric: Value = adam_id.parse::<u64>().map_or(Value::from(adam_id), Value::from);
    let mut extra = Map::new();
    extra.insert("id".to_owned(), numeric.clone());
    AppMetadata {
        name: Some(info.name.clone()),
        bundle_id: info.bundle_id.clone(),
        kind: Some(info.kind.clone()),
        artist_name: Some(info.artist_name.clone()),
        device_families: info.device_families.clone(),
        minimum_os_version: Some(info.minimum_os_version.clone()),
        is_vpp_device_based_licensing_enabled: Some(info.device_based_licensing),
        is_b2b_custom_app: Some(info.b2b_custom),
        watch_bundle_id: None,
        artwork: Some(Artwork::Single(ArtworkImage {
            url: info.icon_url.clone(),
            width: Some(1024),
            height: Some(1024),
        })),
        genre_names: vec!["Business".to_owned()],
        offers: vec![Offer {
            offer_type: Some("get".to_owned()),
            price: Some(0.0),
            price_formatted: Some("$0.00".to_owned()),
            buy_params: Some(format!(
                "productType=C&price=0&salableAdamId={adam_id}&pricingParameters=STDQ"
            )),
            version: Some(OfferVersion {
                display: Some(info.version.clone()),
                external_id: Some(numeric),
            }),
            assets: vec![OfferAsset {
                flavor: Some(info.kind.clone()),
                size: Some(info.size_bytes),
            }],
        }],
        extra,
    }
}

/// Opening the invitation link: the user with this invite code accepts, exactly like
/// [`super::LocationHandle::user_accepts_invitation`].
pub(crate) async fn accept_invite(
    State(shared): State<Arc<Shared>>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let Some(code) = params.get("inviteCode").filter(|c| !c.is_empty()) else {
        return empty(StatusCode::BAD_REQUEST);
    };
    let accepted = {
        let mut world = shared.world();
        let found = world.locations.values_mut().filter(|l| !l.deleted).find_map(|l| {
            let user = l
                .users
                .iter()
                .find(|u| u.active() && u.invite_code.as_deref() == Some(code.as_str()))?
                .client_user_id
                .clone();
            Some((l.id, user))
        });
        found.and_then(|(id, user)| accept(world.locations.get_mut(&id)?, &user, None).ok())
    };
    match accepted {
        Some((_, out)) => {
            shared.send(out.into_iter().collect());
            empty(StatusCode::OK)
        }
        None => empty(StatusCode::NOT_FOUND),
    }
}
