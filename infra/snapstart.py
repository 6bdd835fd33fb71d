"""SnapStart in the packaged template (``make deploy SNAPSTART=1``, issue 24).

SnapStart snapshots a function's initialised environment when a *version* is published, and
starts new environments of that version from the snapshot instead of running the init phase
again. It works only on published versions, so with it every function gets
``AutoPublishAlias: live`` (SAM publishes a version whenever the function or its configuration
changes, and points the alias at it) and the callers call the alias, never ``$LATEST``:

- SAM points the schedules and the SQS event sources of a function with an alias at the alias;
- Chalice's API integrations name ``${APIHandler.Arn}`` and its invoke permission ``APIHandler``:
  both are pointed at ``APIHandler.Alias`` here (SAM's name for the alias it creates).

``all`` turns SnapStart on for every function; ``api`` only for the API handler (where a person
or Twilio waits), the others still publishing versions behind the alias. The snapshot's cache is
billed per published version and GB-second, so ``api`` costs a tenth of ``all`` (README,
"Cold starts and SnapStart"). ``AutoPublishAliasAllProperties`` publishes a new version for a
configuration change too (the second deploy pass changes ``CMDM_PUBLIC_URL``), and the ``Release``
parameter lets ``make deploy RELEASE=...`` publish fresh versions (fresh snapshots) on purpose,
e.g. after rotating the Twilio secret. The runtime side, what a restored copy refreshes, is
``chalicelib/snapstart.py``.
"""

from __future__ import annotations

from typing import Any

CHOICES = ("all", "api")
ALIAS = "live"
API_FUNCTION = "APIHandler"
RELEASE_PARAMETER = "Release"
ALIAS_VARIABLE = "FunctionAliasArn"


def _point_at_alias(value: Any, function: str) -> tuple[Any, int]:
    """``value`` with every ``Fn::Sub`` naming ``${F.Arn}`` naming ``F``'s alias instead; returns the count.

    The alias goes in as a variable, ``{"Ref": "F.Alias"}`` (SAM resolves it to the alias it
    creates), rather than as ``${F.Alias}`` in the string, which cfn-lint cannot check.
    """
    if isinstance(value, list):
        items = [_point_at_alias(v, function) for v in value]
        return [v for v, _ in items], sum(n for _, n in items)
    if not isinstance(value, dict):
        return value, 0
    sub = value.get("Fn::Sub")
    if len(value) == 1 and sub is not None:
        text, variables = (sub, {}) if isinstance(sub, str) else (sub[0], dict(sub[1]))
        if isinstance(text, str) and f"${{{function}.Arn}}" in text:
            variables[ALIAS_VARIABLE] = {"Ref": f"{function}.Alias"}
            return {"Fn::Sub": [text.replace(f"${{{function}.Arn}}", f"${{{ALIAS_VARIABLE}}}"), variables]}, 1
        return value, 0
    count = 0
    out: dict[str, Any] = {}
    for key, item in value.items():
        out[key], n = _point_at_alias(item, function)
        count += n
    return out, count


def publish_with_snapstart(template: dict[str, Any], functions: list[str], on: str) -> dict[str, Any]:
    """``template`` with versions and the alias ``live`` on every function, SnapStart on ``on``'s."""
    if on not in CHOICES:
        raise ValueError(f"SnapStart on {on!r}: one of {', '.join(CHOICES)}")
    resources = template["Resources"]
    template.setdefault("Parameters", {})[RELEASE_PARAMETER] = {
        "Type": "String",
        "Default": "",
        "Description": "Change it to publish new versions (new SnapStart snapshots) without a code change.",
    }
    for name in functions:
        props = resources[name]["Properties"]
        props["AutoPublishAlias"] = ALIAS
        props["AutoPublishAliasAllProperties"] = True
        props["Description"] = {"Fn::Sub": f"CMDM ${{Stage}} {name} (release ${{{RELEASE_PARAMETER}}})"}
        if on == "all" or name == API_FUNCTION:
            props["SnapStart"] = {"ApplyOn": "PublishedVersions"}
    pointed = 0
    for logical_id, resource in list(resources.items()):
        if resource.get("Type") == "AWS::Serverless::Api":
            resources[logical_id], n = _point_at_alias(resource, API_FUNCTION)
            pointed += n
        elif resource.get("Type") == "AWS::Lambda::Permission" and \
                resource["Properties"].get("FunctionName") == {"Ref": API_FUNCTION}:
            resource["Properties"]["FunctionName"] = {"Ref": f"{API_FUNCTION}.Alias"}
            pointed += 1
    if API_FUNCTION in functions and pointed < 2:
        raise ValueError(f"found {pointed} references to {API_FUNCTION} to point at its alias (expected the API's "
                         "integrations and its invoke permission): has Chalice's template changed?")
    return template
