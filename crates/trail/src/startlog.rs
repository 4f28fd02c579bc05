//! Log lines written while `trail serve` starts, held back until its banner is printed.
//!
//! Opening a store logs its migrations, and the demo logs its dictionary training; printed as
//! they happen, they came before the banner and pushed the address and the operator key a
//! screen away from where a new user looks. While held, log lines go to a buffer; [`release`]
//! writes them to standard error, in order, and every later line goes straight there. `main`
//! releases them too when a command fails, so a failed start still shows its log before its
//! error.

use std::{
    io::{self, Write},
    sync::Mutex,
};

/// The held lines; `None` when nothing is held.
static HELD: Mutex<Option<Vec<u8>>> = Mutex::new(None);

/// From now on, hold log lines back.
pub fn hold() {
    let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
    held.get_or_insert_with(Vec::new);
}

/// Writes the held lines to standard error and stops holding. Does nothing when nothing is held.
pub fn release() {
    let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(bytes) = held.take() {
        let mut err = io::stderr().lock();
        let _ = err.write_all(&bytes);
        let _ = err.flush();
    }
}

/// The log's writer: standard error, or the buffer while lines are held. The lock is taken for
/// each line, so a line is never written between the held ones and their release.
pub struct Writer;

impl Write for Writer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
        match held.as_mut() {
            Some(bytes) => {
                bytes.extend_from_slice(buf);
                Ok(buf.len())
            }
            None => io::stderr().write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
        match held.as_mut() {
            Some(bytes) => {
                bytes.extend_from_slice(buf);
                Ok(())
            }
            None => io::stderr().write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_lines_are_kept_until_released() {
        hold();
        Writer.write_all(b"migrated\n").unwrap();
        assert_eq!(HELD.lock().unwrap().as_deref(), Some(&b"migrated\n"[..]));
        release();
        assert!(HELD.lock().unwrap().is_none());
    }
}
