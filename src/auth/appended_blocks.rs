//! Bounds on what a token's holder may append, checked on the blocks
//! themselves before any of their Datalog runs.
//!
//! Anyone holding a token can append blocks offline, and the server evaluates
//! them at every verification and authorization. Biscuit's own run limits
//! (facts, iterations, time) are checked between evaluation steps, so one step
//! (a join over many facts, a check with a long expression) runs to its end
//! however long it takes. Bounding the blocks bounds every step: each appended
//! block may hold only so many facts, rules, checks, terms and operations, no
//! rule or check query may join more than two predicates, and the whole
//! token's worst case, estimated below, must stay within a budget of
//! evaluations. A token over any bound is refused before its Datalog runs.
//!
//! The estimate: with `F` facts the world can hold (the server's own, the
//! appended ones and, when a block adds rules, as many as the authorizer's
//! fact limit), a rule or check query joining `p` predicates tries at most
//! `F^p` combinations, each costing its expressions' operations; a closure
//! costs its operations once per element of all the collections the token
//! holds (any block's, since a block may trust the ones before it), again
//! for each closure it sits in. Rules run once per iteration, checks once. Measured on one core, a
//! unit of the estimate costs under 100 ns, so a token at the budget takes
//! about a millisecond per decision at worst.

use biscuit_auth::AuthorizerLimits;
use biscuit_auth::datalog::SymbolTable;
use biscuit_auth::format::schema;
use chrono::{DateTime, Utc};
use prost::Message;

use crate::error::{Error, Result};

/// Facts the server's own authority block and decision facts bring, at most
/// (five in the authority block, up to seven per decision).
const SERVER_FACTS: u64 = 12;

/// What one token may carry beyond the block the server signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppendedBlockLimits {
    /// Appended blocks.
    pub max_blocks: usize,
    /// Facts in one block.
    pub max_facts: usize,
    /// Rules in one block.
    pub max_rules: usize,
    /// Checks in one block.
    pub max_checks: usize,
    /// Queries in one check (`check if a or b or …`).
    pub max_queries: usize,
    /// Predicates joined in one rule body or check query.
    pub max_predicates: usize,
    /// Terms in one block, counting every element of sets, arrays and maps.
    pub max_terms: usize,
    /// Expression operations in one block, counting those inside closures.
    pub max_operations: usize,
    /// The estimated worst case of evaluating every appended block.
    pub max_evaluations: u64,
}

impl AppendedBlockLimits {
    /// The limits the server applies.
    pub const SERVING: Self = Self {
        max_blocks: 8,
        max_facts: 8,
        max_rules: 4,
        max_checks: 16,
        max_queries: 4,
        max_predicates: 2,
        max_terms: 256,
        max_operations: 256,
        max_evaluations: 10_000,
    };

    /// Refuses a token (its serialized bytes) whose appended blocks are over
    /// a limit, with a message that names it; otherwise reads what they say
    /// of the token's life. `run` are the authorizer's limits, whose fact and
    /// iteration caps enter the estimate.
    pub fn check(&self, token: &[u8], run: &AuthorizerLimits) -> Result<AppendedBlocks> {
        let token = schema::Biscuit::decode(token).map_err(|_| unreadable())?;
        if token.blocks.len() > self.max_blocks {
            return Err(over(format!(
                "the token has {} appended blocks; at most {} are accepted",
                token.blocks.len(),
                self.max_blocks
            )));
        }
        let mut blocks = Vec::with_capacity(token.blocks.len());
        for (index, signed) in token.blocks.iter().enumerate() {
            let block = schema::Block::decode(signed.block.as_slice()).map_err(|_| unreadable())?;
            self.check_counts(index + 1, &block)?;
            blocks.push(block);
        }
        let evaluations = estimate(&blocks, run);
        if evaluations > self.max_evaluations {
            return Err(over(format!(
                "the token's appended blocks could take {evaluations} evaluations; at most {} are accepted",
                self.max_evaluations
            )));
        }
        Ok(AppendedBlocks {
            expires_at: blocks.iter().filter_map(earliest_expiry).min(),
        })
    }

    /// Refuses block `number` (1 for the first appended) when a count is over.
    fn check_counts(&self, number: usize, block: &schema::Block) -> Result<()> {
        let queries = || block.checks.iter().flat_map(|check| &check.queries);
        let widest = block
            .rules
            .iter()
            .chain(queries())
            .map(|rule| rule.body.len())
            .max()
            .unwrap_or(0);
        let longest_check = block
            .checks
            .iter()
            .map(|check| check.queries.len())
            .max()
            .unwrap_or(0);
        let counts = [
            ("facts", block.facts.len(), self.max_facts),
            ("rules", block.rules.len(), self.max_rules),
            ("checks", block.checks.len(), self.max_checks),
            ("queries in one check", longest_check, self.max_queries),
            (
                "predicates in one rule or query",
                widest,
                self.max_predicates,
            ),
            ("terms", BlockSize::of(block).terms, self.max_terms),
            (
                "expression operations",
                BlockSize::of(block).operations,
                self.max_operations,
            ),
        ];
        match counts.into_iter().find(|(_, count, max)| count > max) {
            Some((what, count, max)) => Err(over(format!(
                "block {number} of the token has {count} {what}; at most {max} are accepted"
            ))),
            None => Ok(()),
        }
    }
}

/// What appended blocks say of a token's life.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AppendedBlocks {
    /// The earliest time from which a block's check on the time fails: the
    /// token's own expiry, narrowed. Read from checks of the form
    /// `check if time($t), $t < <date>` (or `<=`, or `<date> > $t`, or
    /// several such queries joined with `or`), as `attenuateToken` and
    /// `conduit token attenuate` write them.
    pub expires_at: Option<DateTime<Utc>>,
}

/// The earliest time a check of `block` on the time alone stops passing.
fn earliest_expiry(block: &schema::Block) -> Option<DateTime<Utc>> {
    block
        .checks
        .iter()
        .filter(|check| {
            check
                .kind
                .is_none_or(|kind| kind != schema::check::Kind::Reject as i32)
        })
        .filter_map(|check| {
            // A check passes while any of its queries does: the latest one.
            let ends: Option<Vec<i64>> = check.queries.iter().map(time_bound).collect();
            ends?.into_iter().max()
        })
        .min()
        .and_then(|seconds| DateTime::from_timestamp(seconds, 0))
}

/// The date (Unix seconds) a query `time($t), $t < date` stops passing at,
/// if the query is of that form.
fn time_bound(query: &schema::Rule) -> Option<i64> {
    use schema::op::Content;
    use schema::op_binary::Kind;
    use schema::term::Content as Term;
    let time = SymbolTable::new().get("time")?;
    let [predicate] = query.body.as_slice() else {
        return None;
    };
    let [
        schema::Term {
            content: Some(Term::Variable(variable)),
        },
    ] = predicate.terms.as_slice()
    else {
        return None;
    };
    if predicate.name != time {
        return None;
    }
    let [expression] = query.expressions.as_slice() else {
        return None;
    };
    let [first, second, operator] = expression.ops.as_slice() else {
        return None;
    };
    let value = |op: &schema::Op| match &op.content {
        Some(Content::Value(term)) => term.content.clone(),
        _ => None,
    };
    let Some(Content::Binary(operator)) = &operator.content else {
        return None;
    };
    let (date, before) = match (value(first), value(second)) {
        (Some(Term::Variable(v)), Some(Term::Date(date))) if v == *variable => (date, true),
        (Some(Term::Date(date)), Some(Term::Variable(v))) if v == *variable => (date, false),
        _ => return None,
    };
    let less = matches!(
        Kind::from_i32(operator.kind),
        Some(Kind::LessThan | Kind::LessOrEqual)
    );
    let greater = matches!(
        Kind::from_i32(operator.kind),
        Some(Kind::GreaterThan | Kind::GreaterOrEqual)
    );
    // `$t < date` and `date > $t` (and their `=` forms) hold until the date.
    ((before && less) || (!before && greater)).then(|| i64::try_from(date).ok())?
}

fn unreadable() -> Error {
    Error::Unauthenticated("the token's blocks cannot be read".into())
}

fn over(message: String) -> Error {
    Error::Unauthenticated(message)
}

/// Terms and operations of one block, and the elements of its collections.
#[derive(Clone, Copy, Debug, Default)]
struct BlockSize {
    terms: usize,
    operations: usize,
    collection_elements: usize,
}

impl BlockSize {
    fn of(block: &schema::Block) -> Self {
        let mut size = Self::default();
        let predicates =
            block.facts.iter().map(|fact| &fact.predicate).chain(
                rules_of(block).flat_map(|rule| std::iter::once(&rule.head).chain(&rule.body)),
            );
        for predicate in predicates {
            for term in &predicate.terms {
                size.term(term);
            }
        }
        for expression in rules_of(block).flat_map(|rule| &rule.expressions) {
            size.ops(&expression.ops);
        }
        size
    }

    fn term(&mut self, term: &schema::Term) {
        use schema::term::Content;
        self.terms = self.terms.saturating_add(1);
        let elements: Vec<&schema::Term> = match &term.content {
            Some(Content::Set(set)) => set.set.iter().collect(),
            Some(Content::Array(array)) => array.array.iter().collect(),
            Some(Content::Map(map)) => map.entries.iter().map(|entry| &entry.value).collect(),
            _ => return,
        };
        self.collection_elements = self.collection_elements.saturating_add(elements.len());
        for element in elements {
            self.term(element);
        }
    }

    fn ops(&mut self, ops: &[schema::Op]) {
        use schema::op::Content;
        for op in ops {
            self.operations = self.operations.saturating_add(1);
            match &op.content {
                Some(Content::Value(term)) => self.term(term),
                Some(Content::Closure(closure)) => self.ops(&closure.ops),
                _ => {}
            }
        }
    }
}

/// Every rule of a block and every query of its checks.
fn rules_of(block: &schema::Block) -> impl Iterator<Item = &schema::Rule> {
    block
        .rules
        .iter()
        .chain(block.checks.iter().flat_map(|check| &check.queries))
}

/// The cost of evaluating `ops` once: each operation counts one, and a
/// closure's operations count once per element it may run over, `elements`,
/// and a closure inside a closure multiplies again.
fn expression_cost(ops: &[schema::Op], elements: u64) -> u64 {
    ops.iter().fold(0u64, |cost, op| {
        let one = match &op.content {
            Some(schema::op::Content::Closure(closure)) => {
                elements.saturating_mul(expression_cost(&closure.ops, elements).max(1))
            }
            _ => 1,
        };
        cost.saturating_add(one)
    })
}

/// The worst case of evaluating every rule and check query of `blocks`, in
/// candidate combinations weighted by the operations each costs.
fn estimate(blocks: &[schema::Block], run: &AuthorizerLimits) -> u64 {
    let appended_facts: u64 = blocks.iter().map(|block| block.facts.len() as u64).sum();
    let has_rules = blocks.iter().any(|block| !block.rules.is_empty());
    let generated = if has_rules { run.max_facts } else { 0 };
    let facts = SERVER_FACTS
        .saturating_add(appended_facts)
        .saturating_add(generated);
    let iterations = run.max_iterations;
    // A closure may run over a collection written in any block (a fact of
    // one, read by a rule of another that trusts it), or over one an
    // expression builds from several: every element the token holds in
    // collections bounds the elements it can run over.
    let elements = blocks
        .iter()
        .map(|block| BlockSize::of(block).collection_elements as u64)
        .fold(1u64, u64::saturating_add);
    let mut total = 0u64;
    for block in blocks {
        let cost = |rule: &schema::Rule| {
            let combinations =
                facts.saturating_pow(u32::try_from(rule.body.len()).unwrap_or(u32::MAX));
            let per_combination = rule
                .expressions
                .iter()
                .map(|expression| expression_cost(&expression.ops, elements))
                .fold(1u64, u64::saturating_add);
            combinations.saturating_mul(per_combination)
        };
        for rule in &block.rules {
            total = total.saturating_add(iterations.saturating_mul(cost(rule)));
        }
        for query in block.checks.iter().flat_map(|check| &check.queries) {
            total = total.saturating_add(cost(query));
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use biscuit_auth::{Biscuit, BlockBuilder, KeyPair};

    fn token_with(blocks: &[&str]) -> Vec<u8> {
        let root = KeyPair::new();
        let mut token = Biscuit::builder()
            .code("user(1); role(\"user\");")
            .expect("authority")
            .build(&root)
            .expect("build");
        for code in blocks {
            let block = BlockBuilder::new().code(*code).expect("block parses");
            token = token.append(block).expect("append");
        }
        token.to_vec().expect("serialize")
    }

    fn limits() -> AuthorizerLimits {
        AuthorizerLimits {
            max_facts: 100,
            max_iterations: 10,
            ..AuthorizerLimits::default()
        }
    }

    fn refusal(blocks: &[&str]) -> String {
        match AppendedBlockLimits::SERVING.check(&token_with(blocks), &limits()) {
            Err(Error::Unauthenticated(message)) => message,
            other => panic!("not refused: {other:?}"),
        }
    }

    fn accepted(blocks: &[&str]) -> bool {
        AppendedBlockLimits::SERVING
            .check(&token_with(blocks), &limits())
            .is_ok()
    }

    #[test]
    fn the_attenuations_the_server_writes_are_accepted() {
        let ids: Vec<String> = (1..=20).map(|id| id.to_string()).collect();
        let articles = format!(
            "check if resource(\"article\", $id), [{}].contains($id);",
            ids.join(", ")
        );
        assert!(accepted(&[]));
        assert!(accepted(&[
            "check if operation(\"read\");",
            &articles,
            "check if action($a), [\"comment.create\", \"article.update\"].contains($a);\ncheck if time($now), $now < 2030-03-17T17:46:40Z;",
        ]));
        assert!(accepted(&["check if operation(\"read\");"; 8]));
    }

    #[test]
    fn too_many_blocks_facts_rules_or_checks_are_refused() {
        let message = refusal(&["check if operation(\"read\");"; 9]);
        assert!(message.contains("9 appended blocks"), "{message}");
        let facts: String = (0..9).map(|i| format!("f({i});")).collect();
        let message = refusal(&[&facts]);
        assert!(
            message.contains("block 1") && message.contains("9 facts"),
            "{message}"
        );
        let rules: String = (0..5).map(|i| format!("r{i}($x) <- f($x);")).collect();
        assert!(refusal(&[&rules]).contains("5 rules"));
        let checks: String = (0..17).map(|i| format!("check if f({i});")).collect();
        assert!(refusal(&["check if operation(\"read\");", &checks]).contains("block 2"));
        assert!(refusal(&["check if a(1) or a(2) or a(3) or a(4) or a(5);"]).contains("5 queries"));
    }

    #[test]
    fn joins_of_more_than_two_predicates_are_refused() {
        assert!(accepted(&["check if operation($o), action($a);"]));
        let message = refusal(&["check if f($a), f($b), f($c);"]);
        assert!(message.contains("3 predicates"), "{message}");
        let message = refusal(&["r($a, $b, $c) <- f($a), f($b), f($c);"]);
        assert!(message.contains("3 predicates"), "{message}");
    }

    #[test]
    fn large_collections_and_long_expressions_are_refused() {
        let ids: Vec<String> = (0..300).map(|id| id.to_string()).collect();
        let set = format!(
            "check if resource(\"article\", $id), [{}].contains($id);",
            ids.join(",")
        );
        assert!(refusal(&[&set]).contains("terms"));
        let sum = (0..200)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(" + ");
        let message = refusal(&[&format!("check if user($u), $u == {sum};")]);
        assert!(message.contains("expression operations"), "{message}");
    }

    #[test]
    fn the_worst_case_estimate_is_bounded() {
        // The attack: many facts joined with arithmetic, as rules that run at
        // every iteration and as checks.
        let facts: String = (0..8).map(|i| format!("n({i});")).collect();
        let join = "r($a, $b) <- n($a), n($b), $a * $b + $a - $b > 1000;";
        let message = refusal(&[&format!("{facts}{join}")]);
        assert!(message.contains("evaluations"), "{message}");
        // Checks alone over few facts stay within it.
        let check = "check if n($a), n($b), $a * $b < 1000;";
        assert!(accepted(&[&format!("{facts}{check}")]));
        // A closure multiplies by the collection it runs over.
        let ids: Vec<String> = (0..200).map(|id| id.to_string()).collect();
        let closure = format!(
            "check if n($a), n($b), [{}].all($x -> [{}].any($y -> $x + $y > $a));",
            ids[..100].join(","),
            ids[100..].join(",")
        );
        assert!(refusal(&[&format!("{facts}{closure}")]).contains("evaluations"));
    }

    fn expiry(blocks: &[&str]) -> Option<i64> {
        AppendedBlockLimits::SERVING
            .check(&token_with(blocks), &limits())
            .expect("within the bounds")
            .expires_at
            .map(|at| at.timestamp())
    }

    #[test]
    fn a_check_on_the_time_narrows_the_expiry() {
        assert_eq!(expiry(&[]), None);
        assert_eq!(expiry(&["check if operation(\"read\");"]), None);
        let at = |date: &str| {
            DateTime::parse_from_rfc3339(date)
                .expect("date")
                .timestamp()
        };
        assert_eq!(
            expiry(&["check if time($now), $now < 2030-01-01T00:00:00Z;"]),
            Some(at("2030-01-01T00:00:00Z"))
        );
        assert_eq!(
            expiry(&["check if time($t), 2030-01-01T00:00:00Z > $t;"]),
            Some(at("2030-01-01T00:00:00Z"))
        );
        // The earliest of several blocks; the latest of a check's queries.
        assert_eq!(
            expiry(&[
                "check if time($t), $t < 2031-01-01T00:00:00Z;",
                "check if time($t), $t < 2030-06-01T00:00:00Z or time($t), $t < 2030-07-01T00:00:00Z;",
            ]),
            Some(at("2030-07-01T00:00:00Z"))
        );
        // Other shapes say nothing of the expiry.
        assert_eq!(
            expiry(&["check if time($t), $t > 2030-01-01T00:00:00Z;"]),
            None
        );
        assert_eq!(
            expiry(&["check if time($t), $t < 2030-01-01T00:00:00Z or operation(\"read\");"]),
            None
        );
    }

    #[test]
    fn a_closure_over_another_blocks_collection_is_counted() {
        let set: Vec<String> = (0..240).map(|i| i.to_string()).collect();
        let facts = format!("s({{{}}});", set.join(","));
        let closure = "check if s($s), $s.all($x -> $s.all($y -> $x + $y >= 0)) trusting previous;";
        let message = refusal(&[&facts, closure]);
        assert!(message.contains("evaluations"), "{message}");
    }

    #[test]
    fn bytes_that_are_not_a_token_are_refused() {
        let message = match AppendedBlockLimits::SERVING.check(b"\xff\x00garbage", &limits()) {
            Err(Error::Unauthenticated(message)) => message,
            other => panic!("not refused: {other:?}"),
        };
        assert!(message.contains("cannot be read"), "{message}");
    }
}
