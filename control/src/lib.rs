//! The pinhole control side: the configuration model and its validation, compilation
//! of a policy into the immutable form workers read, `pinhole replay`, and the engine
//! runner behind `pinhole run` with its REST control plane (`api`) and the `pinhole ctl`
//! client of it (`ctl`).

pub mod api;
pub mod config;
pub mod ctl;
pub mod events;
pub mod replay;
pub mod run;
