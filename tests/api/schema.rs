//! The checked-in schema.graphql is the schema the server serves.

#[test]
fn schema_graphql_matches_the_served_schema() {
    let printed = conduit::graphql::sdl();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    let checked_in = std::fs::read_to_string(path).expect("schema.graphql exists");
    assert!(
        printed == checked_in,
        "schema.graphql is out of date: run `cargo run -- schema > schema.graphql`"
    );
}

#[test]
fn every_type_field_argument_and_enum_value_is_documented() {
    let sdl = conduit::graphql::sdl();
    let mut undocumented = Vec::new();
    let mut in_description = false;
    let mut previous_closed_description = false;
    for line in sdl.lines() {
        let trimmed = line.trim();
        if trimmed == "\"\"\"" {
            in_description = !in_description;
            previous_closed_description = !in_description;
            continue;
        }
        if in_description || trimmed.starts_with("\"\"\"") {
            previous_closed_description = trimmed.ends_with("\"\"\"") && trimmed.len() > 3;
            continue;
        }
        let structural = trimmed.is_empty()
            || trimmed == "}"
            || trimmed.starts_with(')')
            || trimmed.starts_with("schema")
            || trimmed.starts_with("directive")
            || ["query:", "mutation:", "subscription:"]
                .iter()
                .any(|root| trimmed.starts_with(root));
        if !structural && !previous_closed_description {
            undocumented.push(line.to_owned());
        }
        previous_closed_description = false;
    }
    assert!(undocumented.is_empty(), "undocumented: {undocumented:#?}");
}

#[test]
fn the_root_types_have_the_conventional_names() {
    let sdl = conduit::graphql::sdl();
    for root in ["type Query {", "type Mutation {", "type Subscription {"] {
        assert!(sdl.contains(root), "no `{root}` in the schema");
    }
    assert!(
        sdl.contains(
            "schema {\n\tquery: Query\n\tmutation: Mutation\n\tsubscription: Subscription\n}"
        ),
        "the schema block names other roots"
    );
}
