//! The hardware a simulated device claims to be: identifiers and model facts, the same
//! for the same seed and index so test failures can be replayed.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::behaviour::{Behaviour, DeviceKind};

/// A small deterministic generator (SplitMix64); identifiers need variety, not secrecy.
#[derive(Debug, Clone)]
pub(crate) struct SeededRng(u64);

impl SeededRng {
    pub(crate) fn new(seed: u64, index: u64) -> Self {
        Self(seed ^ index.wrapping_mul(0xD1B5_4A32_D192_ED03) ^ 0x5EED_0FA9_91E5_u64)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

struct Model {
    product: &'static str,
    /// `ModelName`.
    name: &'static str,
    part: &'static str,
    /// The SoC id that starts a modern (A12 and later) UDID.
    chip: u32,
}

const IPADS: &[Model] = &[
    Model {
        name: "iPad",
        product: "iPad13,1",
        part: "MYFM2J/A",
        chip: 0x8101,
    },
    Model {
        name: "iPad",
        product: "iPad12,1",
        part: "MK2K3J/A",
        chip: 0x8030,
    },
    Model {
        name: "iPad",
        product: "iPad13,18",
        part: "MPQ03J/A",
        chip: 0x8101,
    },
    Model {
        name: "iPad",
        product: "iPad14,1",
        part: "MK7M3J/A",
        chip: 0x8110,
    },
];

const IPHONES: &[Model] = &[
    Model {
        name: "iPhone",
        product: "iPhone14,2",
        part: "MLUF3J/A",
        chip: 0x8110,
    },
    Model {
        name: "iPhone",
        product: "iPhone14,5",
        part: "MLNC3J/A",
        chip: 0x8110,
    },
    Model {
        name: "iPhone",
        product: "iPhone15,2",
        part: "MQ0T3J/A",
        chip: 0x8120,
    },
    Model {
        name: "iPhone",
        product: "iPhone12,8",
        part: "MX9R2J/A",
        chip: 0x8030,
    },
];

const MACS: &[Model] = &[
    Model {
        name: "MacBook Air",
        product: "Mac14,2",
        part: "MLY33J/A",
        chip: 0x8112,
    },
    Model {
        name: "MacBook Pro",
        product: "Mac15,3",
        part: "MTL73J/A",
        chip: 0x8122,
    },
    Model {
        name: "Mac mini",
        product: "Mac14,3",
        part: "MMFJ3J/A",
        chip: 0x8112,
    },
    Model {
        name: "iMac",
        product: "iMac21,1",
        part: "MGPC3J/A",
        chip: 0x8103,
    },
];

/// Marketing capacities in GB; the OS reports a bit less (reference §7.9: real, base 10).
const CAPACITIES: &[f64] = &[64.0, 128.0, 256.0];

/// Characters Apple uses in 12-character serial numbers (no vowels that read as digits).
const SERIAL_ALPHABET: &[u8] = b"0123456789CDFGHJKLMNPQRTVWXY";

/// What the device reports about itself in check-ins and DeviceInformation.
#[derive(Debug, Clone, PartialEq)]
pub struct Hardware {
    /// iPhone, iPad or Mac.
    pub kind: DeviceKind,
    /// Modern 25-character form: `<chip>-<ECID>`.
    pub udid: String,
    /// 12 characters.
    pub serial_number: String,
    /// iPhones only: 15 digits with a Luhn check digit.
    pub imei: Option<String>,
    /// `ProductName`, e.g. `iPad13,1`.
    pub product_name: String,
    /// `ModelName`: `iPad`, `iPhone`, `MacBook Air`...
    pub model_name: String,
    /// `Model`, the part number.
    pub model: String,
    /// `DeviceName`.
    pub device_name: String,
    /// `OSVersion`.
    pub os_version: String,
    /// `BuildVersion`.
    pub build_version: String,
    /// `DeviceCapacity` in GB.
    pub capacity_gb: f64,
    /// `WiFiMAC`.
    pub wifi_mac: String,
    /// `BluetoothMAC`.
    pub bluetooth_mac: String,
    /// What `iTunesStoreAccountHash` reports while an Apple Account is signed in.
    pub itunes_store_account_hash: String,
}

impl Hardware {
    /// The hardware of device `index` in a fleet seeded with `seed`.
    pub fn generate(seed: u64, index: usize, behaviour: &Behaviour) -> Self {
        let mut rng = SeededRng::new(seed, index as u64);
        let models = match behaviour.kind {
            DeviceKind::IPad => IPADS,
            DeviceKind::IPhone => IPHONES,
            DeviceKind::Mac => MACS,
        };
        let model = rng.pick(models);
        let model_name = model.name;
        let ecid = rng.next_u64() & 0x00FF_FFFF_FFFF_FFFF;
        let serial_number = (0..12).map(|_| char::from(*rng.pick(SERIAL_ALPHABET))).collect();
        let imei = (behaviour.kind == DeviceKind::IPhone).then(|| imei(&mut rng));
        let mac = rng.next_u64();
        let mut account_hash = [0u8; 20];
        for chunk in account_hash.chunks_mut(8) {
            let bytes = rng.next_u64().to_be_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        let capacity = *rng.pick(CAPACITIES);
        Self {
            kind: behaviour.kind,
            udid: format!("{:08X}-{ecid:016X}", model.chip),
            serial_number,
            imei,
            product_name: model.product.to_owned(),
            model_name: model_name.to_owned(),
            model: model.part.to_owned(),
            device_name: format!("{model_name}-{index:04}"),
            os_version: behaviour.os_version.clone(),
            build_version: build_for(&behaviour.os_version),
            capacity_gb: (capacity * 0.92 * 100.0).round() / 100.0,
            wifi_mac: mac_address(mac),
            bluetooth_mac: mac_address(mac.wrapping_add(1)),
            itunes_store_account_hash: behaviour
                .apple_account_hash
                .clone()
                .unwrap_or_else(|| STANDARD.encode(account_hash)),
        }
    }
}

/// `BuildVersion` for the OS versions tests commonly pick; others get a made-up build
/// of the right shape.
fn build_for(os_version: &str) -> String {
    let known = match os_version {
        "11.3.1" => Some("15E302"),
        "12.1" => Some("16B92"),
        "15.8.3" => Some("19H386"),
        "16.7.8" => Some("20H343"),
        "17.5.1" => Some("21F90"),
        "18.1" => Some("22B83"),
        _ => None,
    };
    if let Some(build) = known {
        return build.to_owned();
    }
    let mut parts = os_version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let major = parts.next().unwrap_or(17);
    let minor = parts.next().unwrap_or(0);
    let patch = parts.next().unwrap_or(0);
    let letter = char::from(b'A' + u8::try_from(minor.min(25)).unwrap_or(0));
    format!("{}{letter}{}", major + 4, 10 + patch * 7)
}

fn mac_address(bits: u64) -> String {
    // Apple's f0:18:98 prefix keeps the addresses recognisable in server UIs.
    let b = bits.to_be_bytes();
    format!("f0:18:98:{:02x}:{:02x}:{:02x}", b[5], b[6], b[7])
}

fn imei(rng: &mut SeededRng) -> String {
    let mut digits: Vec<u32> = vec![3, 5];
    digits.extend((0..12).map(|_| rng.below(10) as u32));
    digits.push(luhn_check_digit(&digits));
    digits.iter().map(|d| char::from_digit(*d, 10).unwrap_or('0')).collect()
}

fn luhn_check_digit(digits: &[u32]) -> u32 {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 0 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    (10 - sum % 10) % 10
}

#[cfg(test)]
mod tests {
    use super::*;

    fn luhn_valid(number: &str) -> bool {
        let digits: Vec<u32> = number.chars().filter_map(|c| c.to_digit(10)).collect();
        let (body, check) = digits.split_at(digits.len() - 1);
        luhn_check_digit(body) == check[0]
    }

    #[test]
    fn same_seed_and_index_give_the_same_device() {
        let b = Behaviour::iphone();
        assert_eq!(Hardware::generate(7, 3, &b), Hardware::generate(7, 3, &b));
        assert_ne!(Hardware::generate(7, 3, &b).udid, Hardware::generate(7, 4, &b).udid);
        assert_ne!(Hardware::generate(7, 3, &b).udid, Hardware::generate(8, 3, &b).udid);
    }

    #[test]
    fn identifiers_have_apples_shapes() {
        for index in 0..200 {
            let phone = Hardware::generate(1, index, &Behaviour::iphone());
            assert_eq!(phone.udid.len(), 25, "{}", phone.udid);
            assert_eq!(phone.udid.as_bytes()[8], b'-');
            assert!(phone.udid.bytes().all(|b| b == b'-' || b.is_ascii_hexdigit()));
            assert_eq!(phone.serial_number.len(), 12);
            let imei = phone.imei.as_deref().unwrap();
            assert_eq!(imei.len(), 15);
            assert!(luhn_valid(imei), "{imei}");
            assert!(phone.product_name.starts_with("iPhone"));
            assert_eq!(STANDARD.decode(&phone.itunes_store_account_hash).unwrap().len(), 20);

            let pad = Hardware::generate(1, index, &Behaviour::ipad());
            assert!(pad.imei.is_none());
            assert!(pad.product_name.starts_with("iPad"));
        }
        assert!(luhn_valid("490154203237518"));
    }

    #[test]
    fn builds_match_known_releases() {
        assert_eq!(build_for("17.5.1"), "21F90");
        assert_eq!(build_for("11.3.1"), "15E302");
        assert_eq!(build_for("19.2"), "23C10");
    }
}
