//! Popups, one file each: the type owns its state, its keys and its drawing (gitui's model);
//! `app.rs` routes keys to the open popup and carries out what it answers.

pub mod confirm;
