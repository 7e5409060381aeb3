//! The standalone server: the core state machine, the prep stage, the
//! network edge and the four-letter words.

pub mod core;
pub mod fourlw;
pub mod net;
pub mod prep;
pub mod run;
