//! Who is calling: the party named by the client certificate, the person or system named by
//! that party's token, and the purpose they declare. Pure of HTTP: the edge maps the errors.

pub mod parties;
pub mod peer;
pub mod person;
pub mod principal;
pub mod revocation;
pub mod token;
pub mod token_cache;
