//! The engine's user-facing options (sampler, beta schedule, FreeNoise's weighting, noise and
//! fusion placement, prompt interpolation), each written once.
//!
//! An option is one enum declared through [`choice!`], which gives every value its short name
//! and its label beside the variant and derives everything else from that one list: [`Choice`]
//! (`ALL`, `name`, `label`, `from_name`), serde by name (so the page's worker protocol carries
//! the option typed, and an unknown name fails when a message is decoded, naming the valid
//! ones) and, with the `cli` feature, clap's `ValueEnum` (the CLI's flag values and their help).
//! The page builds its drop-downs from `ALL` and `label`.

/// A closed set of named values.
pub trait Choice: Copy + Eq + std::fmt::Debug + 'static {
    /// Every value, in the order menus show them.
    const ALL: &'static [Self];

    /// Its short name: the CLI's value, the protocol's string, the page's option value.
    fn name(self) -> &'static str;

    /// What a user reads in the page's menus and the CLI's help.
    fn label(self) -> &'static str;

    /// The value called `name`.
    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.name() == name)
    }
}

/// Declares an option enum: `Variant = ("name", "Label")` per value, doc comments allowed.
macro_rules! choice {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $($(#[$variant_meta:meta])* $variant:ident = ($value:literal, $label:literal),)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$variant_meta])* $variant,)+
        }

        impl $crate::options::Choice for $name {
            const ALL: &'static [Self] = &[$(Self::$variant),+];

            fn name(self) -> &'static str {
                match self {
                    $(Self::$variant => $value,)+
                }
            }

            fn label(self) -> &'static str {
                match self {
                    $(Self::$variant => $label,)+
                }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str($crate::options::Choice::name(*self))
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                const NAMES: &[&str] = &[$($value),+];
                let name = String::deserialize(deserializer)?;
                <Self as $crate::options::Choice>::from_name(&name).ok_or_else(|| serde::de::Error::unknown_variant(&name, NAMES))
            }
        }

        #[cfg(feature = "cli")]
        impl clap::ValueEnum for $name {
            fn value_variants<'a>() -> &'a [Self] {
                <Self as $crate::options::Choice>::ALL
            }

            fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
                use $crate::options::Choice;
                Some(clap::builder::PossibleValue::new(self.name()).help(self.label()))
            }
        }
    };
}
pub(crate) use choice;

#[cfg(test)]
mod tests {
    use super::Choice;
    use crate::freenoise::prompts::Interpolation;
    use crate::freenoise::{FusionPlacement, NoiseType, Weighting};
    use crate::schedulers::{BetaSchedule, Sampler};

    #[cfg(feature = "cli")]
    trait OptionEnum: Choice + serde::Serialize + serde::de::DeserializeOwned + clap::ValueEnum {}
    #[cfg(feature = "cli")]
    impl<T: Choice + serde::Serialize + serde::de::DeserializeOwned + clap::ValueEnum> OptionEnum for T {}
    #[cfg(not(feature = "cli"))]
    trait OptionEnum: Choice + serde::Serialize + serde::de::DeserializeOwned {}
    #[cfg(not(feature = "cli"))]
    impl<T: Choice + serde::Serialize + serde::de::DeserializeOwned> OptionEnum for T {}

    /// Every option's values: names unique, serde by name both ways, unknown names refused
    /// with the valid ones listed, and (with `cli`) clap's values equal to the names.
    fn check<T: OptionEnum>() {
        let names: Vec<&str> = T::ALL.iter().map(|c| c.name()).collect();
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "names of {names:?} repeat");
        for &value in T::ALL {
            assert!(!value.label().is_empty(), "{value:?} has no label");
            assert_eq!(serde_json::to_string(&value).unwrap(), format!("\"{}\"", value.name()));
            assert_eq!(serde_json::from_str::<T>(&format!("\"{}\"", value.name())).unwrap(), value);
            assert_eq!(T::from_name(value.name()), Some(value));
        }
        let refused = serde_json::from_str::<T>("\"no-such-value\"").unwrap_err().to_string();
        assert!(names.iter().all(|n| refused.contains(n)), "{refused}");
        #[cfg(feature = "cli")]
        {
            let clap: Vec<String> =
                <T as clap::ValueEnum>::value_variants().iter().map(|v| clap::ValueEnum::to_possible_value(v).unwrap().get_name().to_string()).collect();
            assert_eq!(clap, names);
        }
    }

    #[test]
    fn every_option_is_derived_from_its_one_list() {
        check::<Sampler>();
        check::<BetaSchedule>();
        check::<Weighting>();
        check::<NoiseType>();
        check::<FusionPlacement>();
        check::<Interpolation>();
    }
}
