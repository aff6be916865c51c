//! Commands an administrator (or the server itself) queues for a device:
//! the inventory queries of SPEC M4 and the wipe of M5. Each is a job on the
//! device's durable queue; the pusher wakes the device.

use apple_mdm::command::{
    DeviceInformation, EraseDevice, InstalledApplicationList, ManagedApplicationList, ManagedMediaList,
};
use apple_mdm::{Command, CommandRequest};
use serde::{Deserialize, Serialize};

use crate::DomainError;
use crate::auth::Actor;
use crate::ids::{AccountId, DeviceId, JobId};
use crate::jobs::NewJob;
use crate::org::EnrollmentState;
use crate::service::Services;
use crate::time_util::Timestamp;

/// The commands the console and CLI can queue by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum DeviceCommandKind {
    DeviceInformation,
    InstalledApplicationList,
    ManagedApplicationList,
    ManagedMediaList,
}

impl DeviceCommandKind {
    fn request(self) -> CommandRequest {
        match self {
            DeviceCommandKind::DeviceInformation => DeviceInformation::for_app_distribution_and_inventory().into(),
            DeviceCommandKind::InstalledApplicationList => InstalledApplicationList::all().into(),
            DeviceCommandKind::ManagedApplicationList => ManagedApplicationList::all().into(),
            DeviceCommandKind::ManagedMediaList => ManagedMediaList::default().into(),
        }
    }
}

trait InventoryQueries {
    fn for_app_distribution_and_inventory() -> DeviceInformation;
}

impl InventoryQueries for DeviceInformation {
    /// What app distribution needs plus the SPEC §2 inventory fields.
    fn for_app_distribution_and_inventory() -> DeviceInformation {
        use apple_mdm::command::query;
        let mut queries: Vec<&str> = query::APP_DISTRIBUTION.to_vec();
        for extra in [
            query::DEVICE_NAME,
            query::MODEL,
            query::MODEL_NAME,
            query::BUILD_VERSION,
            query::DEVICE_CAPACITY,
            query::AVAILABLE_DEVICE_CAPACITY,
            query::WIFI_MAC,
            "IMEI",
        ] {
            if !queries.contains(&extra) {
                queries.push(extra);
            }
        }
        DeviceInformation::new(queries)
    }
}

/// A job carrying `request`, for `device`.
pub fn job_for(
    device: DeviceId,
    request: impl Into<CommandRequest>,
    run_at: Option<Timestamp>,
) -> Result<NewJob, DomainError> {
    let command = Command::new(request);
    let xml = command.to_xml().map_err(DomainError::internal)?;
    Ok(NewJob {
        device_id: device,
        command_uuid: command.command_uuid.as_str().to_owned(),
        request_type: command.request_type().to_owned(),
        command: String::from_utf8(xml).map_err(DomainError::internal)?,
        run_at,
        content: None,
    })
}

impl Services {
    /// Queues inventory commands for one device.
    pub async fn queue_device_commands(
        &self,
        actor: &Actor,
        device: DeviceId,
        kinds: &[DeviceCommandKind],
        run_at: Option<Timestamp>,
    ) -> Result<Vec<JobId>, DomainError> {
        actor.require_write()?;
        if kinds.is_empty() {
            return Err(DomainError::invalid(
                "commands",
                "送るコマンドを1つ以上指定してください。",
                "Name at least one command to send.",
            ));
        }
        self.get_device(actor, device).await?;
        let jobs = kinds
            .iter()
            .map(|kind| job_for(device, kind.request(), run_at))
            .collect::<Result<Vec<_>, _>>()?;
        self.enqueue(actor, &jobs).await
    }

    /// Queues EraseDevice (SPEC M5). The device is unenrolled once it
    /// acknowledges; until then the job can be canceled like any other.
    pub async fn wipe_device(&self, actor: &Actor, device: DeviceId) -> Result<JobId, DomainError> {
        actor.require_account_admin()?;
        let found = self.get_device(actor, device).await?;
        if found.enrollment_state != EnrollmentState::Enrolled {
            return Err(DomainError::conflict(
                "device_not_enrolled",
                "この端末はMDMに登録されていないため、ワイプできません。",
                "This device is not enrolled, so it cannot be wiped.",
            ));
        }
        let job = job_for(device, EraseDevice::default(), None)?;
        let ids = self.enqueue(actor, &[job]).await?;
        Ok(ids[0])
    }

    /// The device's enrollment record and inventory.
    pub async fn device_mdm(
        &self,
        actor: &Actor,
        device: DeviceId,
    ) -> Result<(Option<super::EnrollmentRecord>, Vec<super::Inventory>), DomainError> {
        self.get_device(actor, device).await?;
        Ok((
            self.store.get_enrollment_record(actor.account_id, device).await?,
            self.store.get_inventory(actor.account_id, device).await?,
        ))
    }

    /// The SYSTEM jobs of a new enrollment: who the device is, then what it has.
    pub(crate) async fn queue_first_inventory(
        &self,
        account: AccountId,
        device: DeviceId,
        now: Timestamp,
    ) -> Result<(), DomainError> {
        let jobs = [
            job_for(device, DeviceCommandKind::DeviceInformation.request(), None)?,
            job_for(device, DeviceCommandKind::InstalledApplicationList.request(), None)?,
        ];
        self.store.enqueue_jobs(&Actor::system(account), &jobs, now).await?;
        self.mdm.push_wake.notify_one();
        Ok(())
    }

    pub(crate) async fn enqueue(&self, actor: &Actor, jobs: &[NewJob]) -> Result<Vec<JobId>, DomainError> {
        let ids = self.store.enqueue_jobs(actor, jobs, Timestamp::now()).await?;
        self.mdm.push_wake.notify_one();
        Ok(ids)
    }
}
