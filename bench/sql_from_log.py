"""Turns PostgreSQL's log of one request into a pgbench script.

Reads, on standard input, log lines written with log_min_duration_statement = 0
and writes the statements one backend executed, with their parameters filled
in, one per line. The backend is the first one that touched `articles`, so the
gateway's background work on its own connections is left out.

    python3 bench/sql_from_log.py DATABASE < postgresql.log > home.sql
"""

import re
import sys

EXECUTE = re.compile(r"\[(\d+)\].*?LOG:\s+duration: [\d.]+ ms\s+(?:execute [^:]*|statement): (.*)$")
PARAMETERS = re.compile(r"\[(\d+)\].*?DETAIL:\s+parameters: (.*)$")
PARAMETER = re.compile(r"\$(\d+) = ('(?:[^']|'')*'|NULL)")


def main() -> None:
    database = sys.argv[1]
    statements = []  # (pid, sql)
    for line in sys.stdin:
        if database not in line and "DETAIL:" not in line:
            continue
        executed = EXECUTE.search(line)
        if executed:
            statements.append([executed.group(1), executed.group(2).strip()])
            continue
        detail = PARAMETERS.search(line)
        if detail:
            pid = detail.group(1)
            values = {int(n): v for n, v in PARAMETER.findall(detail.group(2))}
            # The parameters belong to that backend's latest statement.
            for statement in reversed(statements):
                if statement[0] == pid:
                    statement[1] = re.sub(
                        r"\$(\d+)",
                        lambda m: values.get(int(m.group(1)), m.group(0)),
                        statement[1],
                    )
                    break
    request_pid = next((pid for pid, sql in statements if "articles" in sql), None)
    for pid, sql in statements:
        if pid == request_pid:
            print(sql.rstrip(";") + ";")


if __name__ == "__main__":
    main()
