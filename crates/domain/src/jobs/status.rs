use serde::{Deserialize, Serialize};

/// A job's status, with the Japanese labels administrators know from the
/// seeds (seed 004) and SPEC J2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// 予約中: waiting for its start time.
    Scheduled,
    /// 待機中: behind an unfinished job of the same device, or not pushed yet.
    Waiting,
    /// PUSH送信中: the device was woken and has not fetched the command yet.
    PushSent,
    /// PUSHタイムアウト: the device did not come; it still runs when it does.
    PushTimeout,
    /// 実行中: delivered to the device, awaiting or verifying its answer.
    Running,
    /// ライセンス割り当て失敗
    LicenseFailed,
    /// 端末エラー
    DeviceError,
    /// 成功
    Success,
    /// キャンセル
    Canceled,
}

impl JobStatus {
    pub const ALL: [JobStatus; 9] = [
        JobStatus::Scheduled,
        JobStatus::Waiting,
        JobStatus::PushSent,
        JobStatus::PushTimeout,
        JobStatus::Running,
        JobStatus::LicenseFailed,
        JobStatus::DeviceError,
        JobStatus::Success,
        JobStatus::Canceled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Scheduled => "scheduled",
            JobStatus::Waiting => "waiting",
            JobStatus::PushSent => "push_sent",
            JobStatus::PushTimeout => "push_timeout",
            JobStatus::Running => "running",
            JobStatus::LicenseFailed => "license_failed",
            JobStatus::DeviceError => "device_error",
            JobStatus::Success => "success",
            JobStatus::Canceled => "canceled",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            JobStatus::Scheduled => "予約中",
            JobStatus::Waiting => "待機中",
            JobStatus::PushSent => "PUSH送信中",
            JobStatus::PushTimeout => "PUSHタイムアウト",
            JobStatus::Running => "実行中",
            JobStatus::LicenseFailed => "ライセンス割り当て失敗",
            JobStatus::DeviceError => "端末エラー",
            JobStatus::Success => "成功",
            JobStatus::Canceled => "キャンセル",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            JobStatus::Scheduled => "Scheduled",
            JobStatus::Waiting => "Waiting",
            JobStatus::PushSent => "Push sent",
            JobStatus::PushTimeout => "Push timed out",
            JobStatus::Running => "Running",
            JobStatus::LicenseFailed => "License assignment failed",
            JobStatus::DeviceError => "Device error",
            JobStatus::Success => "Success",
            JobStatus::Canceled => "Canceled",
        }
    }

    /// Finished jobs never change again and are never delivered.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            JobStatus::LicenseFailed | JobStatus::DeviceError | JobStatus::Success | JobStatus::Canceled
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_labels_and_finality() {
        for status in JobStatus::ALL {
            assert_eq!(JobStatus::parse(status.as_str()), Some(status));
            assert_ne!(status.label_ja(), status.label_en());
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{}\"", status.as_str()));
        }
        let finals: Vec<_> = JobStatus::ALL.into_iter().filter(|s| s.is_final()).collect();
        assert_eq!(finals.len(), 4);
        assert_eq!(JobStatus::PushTimeout.label_ja(), "PUSHタイムアウト");
        assert_eq!(JobStatus::parse("done"), None);
    }
}
