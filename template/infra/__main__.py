"""Pulumi program of {{ cookiecutter.project_slug }}: the slipway platform, per its stack config.

Every option is a `slipway:*` key of Pulumi.<stack>.yaml (docs/configuration.md), so
`pulumi config set slipway:monitoring true` turns monitoring on without re-templating.
Add your own resources below: the components are attributes of `platform`
(store, registry, roles, tracking, endpoint or cluster and serving, monitoring).
"""

from slipway.platform import compose, load_config

platform = compose(load_config(), cli="{{ cookiecutter.package_name }}")
platform.export()
