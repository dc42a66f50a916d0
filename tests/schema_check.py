"""Every record the suite writes validates against the shipped JSON Schema.

`install()` wraps `RunRecord.to_dict`, the one way a record becomes JSON (files, the database,
stdout), so that a record that does not validate fails the test that wrote it: in the test
process (conftest) and in every `trtbench` the tests run (`python tests/schema_check.py ARGS`
runs the CLI with the check installed).
"""
from __future__ import annotations

import json
import sys
from typing import Any, Callable, Dict

_installed: Dict[str, Any] = {}


def validator() -> Any:
    import jsonschema

    from trtbench.results.record import SCHEMA_FILE

    schema = json.loads(SCHEMA_FILE.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    record_schema = {**schema, "$ref": "#/$defs/record"}
    record_schema.pop("oneOf")
    return jsonschema.Draft202012Validator(record_schema)


def install() -> Callable[[], None]:
    """Wrap RunRecord.to_dict with the schema check; returns the function that unwraps it."""
    from trtbench.results.record import RunRecord

    check = validator()
    original = RunRecord.to_dict

    def to_dict(self: RunRecord) -> Dict[str, Any]:
        data = original(self)
        errors = sorted(check.iter_errors(json.loads(json.dumps(data, default=str))), key=lambda e: list(e.path))
        if errors:
            where = "/".join(str(p) for p in errors[0].path)
            raise AssertionError(f"run record {self.run_id} does not validate against run-record.schema.json "
                                 f"at '{where}': {errors[0].message}")
        return data

    RunRecord.to_dict = to_dict  # type: ignore[method-assign]

    def uninstall() -> None:
        RunRecord.to_dict = original  # type: ignore[method-assign]

    return uninstall


if __name__ == "__main__":
    install()
    from trtbench.cli import main

    sys.argv[0] = "trtbench"
    sys.exit(main())
