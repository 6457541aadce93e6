//! Everything the page reads from or writes to the browser, in one place:
//! HTTP (`fetch`: files relative to the page, downloads kept in Cache
//! Storage, the judge's POST), the files a user picks and the downloads the
//! page offers (`files`), and what it keeps on this device (`storage`).

pub mod fetch;
pub mod files;
pub mod storage;
