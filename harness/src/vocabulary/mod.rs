//! TEMPORARY STUB (replaced by the vocabulary branch before commit).
#![allow(missing_docs)]
use crate::cgroup::{Layout, Limits};
#[derive(Debug, Clone, Copy)]
pub enum Vocabulary {
    Native,
    Docker,
    Kubernetes,
}
#[derive(Debug, Clone, Default)]
pub struct HostFacts {
    pub layout: Option<Layout>,
}
impl HostFacts {
    pub fn discover() -> HostFacts {
        HostFacts {
            layout: crate::cgroup::CgroupHost::discover().ok().map(|h| h.layout),
        }
    }
}
pub struct Mapped {
    pub limits: Limits,
    pub words: Vec<(String, String)>,
    pub qos: Option<String>,
    pub files: Vec<(String, String)>,
}
#[derive(Debug)]
pub struct LimitError {
    pub key: String,
    pub message: String,
}
impl std::fmt::Display for LimitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}
pub fn map(
    _v: Vocabulary,
    entries: &[(String, toml::Value)],
    _h: &HostFacts,
) -> Result<Mapped, Vec<LimitError>> {
    Ok(Mapped {
        limits: Limits::default(),
        words: entries
            .iter()
            .map(|(k, v)| (k.clone(), v.to_string()))
            .collect(),
        qos: None,
        files: vec![],
    })
}
