//! Tests of the `trail` binary, run as a user would: the real executable on temporary data.

mod commands;
mod crash;
mod data_dir;
mod erase;
mod fixture;
mod helpers;
mod rewrite;
mod serve;
mod two_servers;
mod unreadable;
mod verify;
mod verify_postgres;
