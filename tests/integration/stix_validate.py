#!/usr/bin/env python3
"""Validates STIX 2.1 objects against the OASIS STIX 2.1 JSON schemas, offline.

Usage: stix_validate.py SCHEMA_DIR PATH...

Each PATH is a JSON file or a directory of them (searched recursively); a file holds one STIX
object, a list of objects, a bundle or a TAXII envelope ({"objects": [...]}). Every object is
checked against the schema of its type (sdos/, sros/, observables/, common/marking-definition);
objects of a type without a schema are checked against common/core.json (or the
cyber-observable core for observables).

The schemas name each other by their $id URLs (raw.githubusercontent.com); those are resolved
from SCHEMA_DIR only, never from the network: every schema file is loaded up front into a
store keyed by its $id, and a reference that is not in the store fails the run.

Exit status 0 when every object validates, 1 otherwise (each failure printed with the file,
the object id and the first schema error), 2 for usage errors.
"""
import json
import os
import sys

import jsonschema

try:  # jsonschema >= 4.18 resolves references through `referencing`
    import referencing
    import referencing.jsonschema
except ImportError:  # Debian 12's jsonschema 4.10 has RefResolver
    referencing = None


def load_schemas(schema_dir):
    by_id = {}
    by_path = {}
    for folder, _, files in os.walk(schema_dir):
        for name in files:
            if not name.endswith(".json"):
                continue
            path = os.path.join(folder, name)
            with open(path, encoding="utf-8") as handle:
                schema = json.load(handle)
            by_id[schema["$id"]] = schema
            by_path[os.path.relpath(path, schema_dir)] = schema
    return by_id, by_path


class OfflineValidators:
    def __init__(self, schema_dir):
        self.by_id, self.by_path = load_schemas(schema_dir)
        cls = jsonschema.Draft202012Validator
        self.validators = {}
        if referencing is not None:
            def refuse(uri):
                raise referencing.exceptions.NoSuchResource(ref=uri)
            resources = [(uri, referencing.Resource.from_contents(
                schema, default_specification=referencing.jsonschema.DRAFT202012))
                for uri, schema in self.by_id.items()]
            registry = referencing.Registry(retrieve=refuse).with_resources(resources)
            for path, schema in self.by_path.items():
                self.validators[path] = cls(schema, registry=registry)
        else:
            def refuse(uri):
                raise jsonschema.exceptions.RefResolutionError(
                    "reference outside the local schemas: " + uri)
            for path, schema in self.by_path.items():
                resolver = jsonschema.RefResolver(schema["$id"], schema, store=dict(self.by_id),
                                                  handlers={"http": refuse, "https": refuse})
                self.validators[path] = cls(schema, resolver=resolver)

    def for_object(self, obj):
        kind = obj.get("type", "")
        for folder in ("sdos", "sros", "observables"):
            path = os.path.join(folder, kind + ".json")
            if path in self.validators:
                return self.validators[path]
        if kind == "marking-definition":
            return self.validators[os.path.join("common", "marking-definition.json")]
        if kind in ("language-content", "extension-definition"):
            return self.validators[os.path.join("common", kind + ".json")]
        return self.validators[os.path.join("common", "core.json")]


def objects_in(document):
    if isinstance(document, list):
        return document
    if isinstance(document, dict) and isinstance(document.get("objects"), list):
        if document.get("type") == "bundle" or "type" not in document:
            return document["objects"]
    return [document]


def files_in(paths):
    for path in paths:
        if os.path.isdir(path):
            for folder, _, files in os.walk(path):
                for name in sorted(files):
                    if name.endswith(".json"):
                        yield os.path.join(folder, name)
        else:
            yield path


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    validators = OfflineValidators(argv[1])
    checked = 0
    failures = 0
    for path in files_in(argv[2:]):
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
        for obj in objects_in(document):
            checked += 1
            if not isinstance(obj, dict):
                failures += 1
                print(f"{path}: not an object: {obj!r:.80}")
                continue
            errors = sorted(validators.for_object(obj).iter_errors(obj), key=lambda e: list(e.path))
            if errors:
                failures += 1
                error = errors[0]
                where = "/".join(str(p) for p in error.path) or "(object)"
                print(f"{path}: {obj.get('id', '?')}: {where}: {error.message[:300]}")
    print(f"stix_validate: {checked} objects checked, {failures} invalid")
    return 1 if failures or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
