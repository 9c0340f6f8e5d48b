"""Checks that two GraphQL answers to equivalent queries hold the same data.

    python3 bench/equivalent.py NAME GATEWAY_ANSWER.json POSTGRAPHILE_ANSWER.json

The gateway and PostGraphile name their fields differently (`author` and
`userByAuthorId`, `favoritesCount` and `favoritesByArticleId { totalCount }`),
so the answers are compared by what they hold in document order, which
bench/run writes the two queries to share:

- every list, in the order its opening bracket comes, and its length: the
  number of items at each level (a list of tag names on one side is a list of
  `{ tagByTagId { name } }` on the other). A difference here fails the check;
- every count and flag (integers, and booleans as 0 and 1), in order: the
  same numbers, or a warning (a count the gateway keeps for published
  articles only, say, where PostGraphile counts every row);
- the values of the fields both sides name alike (slug, title, username,
  name, body, description, bio, image): the same rows in the same order, or a
  warning.

Either answer carrying `errors`, or no `data`, fails the check. Prints one
line saying what was compared; warnings go to standard error too.
"""

import json
import sys

SHARED_NAMES = {"slug", "title", "username", "name", "body", "description", "bio", "image"}


# A card's tags: strings in a list on the gateway's side, alphabetical;
# `{ tagByTagId { name } }` on PostGraphile's, in no set order. Their lists
# are compared, their names are not.
UNORDERED = "articleTagsByArticleId"


def walk(value, key, lists, numbers, shared, in_tags=False):
    if isinstance(value, list):
        lists.append(len(value))
        for item in value:
            walk(item, key, lists, numbers, shared, in_tags)
    elif isinstance(value, dict):
        for k, v in value.items():
            walk(v, k, lists, numbers, shared, in_tags or k == UNORDERED)
    elif isinstance(value, bool):
        numbers.append(int(value))
    elif isinstance(value, int):
        numbers.append(value)
    elif isinstance(value, str) and key in SHARED_NAMES and not in_tags:
        shared.append((key, value))


def summary(answer):
    lists, numbers, shared = [], [], []
    walk(answer["data"], "", lists, numbers, shared)
    return lists, numbers, shared


def first_difference(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return f"at #{i}: {x!r} against {y!r}"
    return f"lengths {len(a)} against {len(b)}"


def main() -> int:
    name, gateway_path, peer_path = sys.argv[1:4]
    answers = {}
    for side, path in (("gateway", gateway_path), ("PostGraphile", peer_path)):
        try:
            answer = json.loads(open(path).read())
        except ValueError:
            print(f"{name}: {side} answered no JSON: {open(path).read()[:300]}", file=sys.stderr)
            return 1
        if answer.get("errors") or not answer.get("data"):
            print(f"{name}: {side} answered errors: {json.dumps(answer)[:600]}", file=sys.stderr)
            return 1
        answers[side] = summary(answer)
    (g_lists, g_numbers, g_shared), (p_lists, p_numbers, p_shared) = answers["gateway"], answers["PostGraphile"]
    if g_lists != p_lists:
        print(f"{name}: the lists differ in length, {first_difference(g_lists, p_lists)} "
              f"(gateway {g_lists[:12]}, PostGraphile {p_lists[:12]})", file=sys.stderr)
        return 1
    warnings = []
    if g_numbers != p_numbers:
        warnings.append(f"counts differ {first_difference(g_numbers, p_numbers)}")
    if g_shared != p_shared:
        warnings.append(f"values differ {first_difference(g_shared, p_shared)}")
    line = (f"{name}: same items at every level ({len(g_lists)} lists, {sum(g_lists)} items; "
            f"{len(g_numbers)} counts and flags, {len(g_shared)} shared values)")
    if warnings:
        line += "; WARNING: " + "; ".join(warnings)
        print(line, file=sys.stderr)
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
