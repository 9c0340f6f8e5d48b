//! Narrowing a token: the checks an attenuation block carries. The same blocks
//! can be written by hand with any biscuit library or the biscuit CLI.

use biscuit_auth::builder::BlockBuilder;
use chrono::{DateTime, SecondsFormat, Utc};

use super::capability::Action;
use crate::error::{Error, FieldError, Result};

/// How to narrow a token. Every part given must hold for every request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Attenuation {
    /// Allow reads only.
    pub read_only: bool,
    /// Allow only operations on these articles (by database id).
    pub articles: Vec<i64>,
    /// Allow only these actions (names of [`Action`]).
    pub actions: Vec<String>,
    /// Stop working at this time.
    pub expires_at: Option<DateTime<Utc>>,
}

impl Attenuation {
    /// The datalog of the block.
    pub fn code(&self) -> Result<String> {
        let mut lines = Vec::new();
        if self.read_only {
            lines.push(r#"check if operation("read");"#.to_owned());
        }
        if !self.articles.is_empty() {
            let ids: Vec<String> = self.articles.iter().map(i64::to_string).collect();
            lines.push(format!(
                r#"check if resource("article", $id), [{}].contains($id);"#,
                ids.join(", ")
            ));
        }
        if !self.actions.is_empty() {
            let unknown: Vec<&String> = self
                .actions
                .iter()
                .filter(|a| Action::parse(a).is_none())
                .collect();
            if !unknown.is_empty() {
                return Err(Error::InvalidInput(vec![FieldError {
                    field: "actions".into(),
                    message: format!("unknown actions: {unknown:?}"),
                }]));
            }
            let names: Vec<String> = self.actions.iter().map(|a| format!("{a:?}")).collect();
            lines.push(format!(
                "check if action($a), [{}].contains($a);",
                names.join(", ")
            ));
        }
        if let Some(at) = self.expires_at {
            // Token dates are whole seconds: round up, so that the token lives
            // at least as long as asked.
            let at = if at.timestamp_subsec_nanos() > 0 {
                at + chrono::Duration::seconds(1)
            } else {
                at
            };
            lines.push(format!(
                "check if time($now), $now < {};",
                at.to_rfc3339_opts(SecondsFormat::Secs, true)
            ));
        }
        if lines.is_empty() {
            return Err(Error::invalid_field(
                "input",
                "name at least one restriction",
            ));
        }
        Ok(lines.join("\n"))
    }

    /// The block to append.
    pub fn block(&self) -> Result<BlockBuilder> {
        BlockBuilder::new()
            .code(self.code()?)
            .map_err(|e| Error::Internal(format!("building an attenuation block failed: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_restriction_becomes_one_check() {
        let code = Attenuation {
            read_only: true,
            articles: vec![3, 4],
            actions: vec!["comment.create".into()],
            expires_at: DateTime::from_timestamp(1_900_000_000, 0),
        }
        .code()
        .expect("code");
        assert_eq!(
            code,
            "check if operation(\"read\");\n\
             check if resource(\"article\", $id), [3, 4].contains($id);\n\
             check if action($a), [\"comment.create\"].contains($a);\n\
             check if time($now), $now < 2030-03-17T17:46:40Z;"
        );
    }

    #[test]
    fn unknown_actions_and_empty_attenuations_are_refused() {
        let unknown = Attenuation {
            actions: vec!["root.shell".into()],
            ..Default::default()
        };
        assert!(matches!(unknown.code(), Err(Error::InvalidInput(_))));
        assert!(Attenuation::default().code().is_err());
    }
}
