"""Access of the stack's roles: what each must be allowed to do and what it must never do.

* ``request``: one AWS request as IAM authorizes it (principal, action, resource, context),
  kept as JSON lines;
* ``recorder``: botocore event hooks that turn a workload's real AWS calls into requests
  (``SLIPWAY_ACCESS_LOG=<file>``);
* ``stack``: the roles, identity policies, resource policies and tags of a stack, read
  from a mocked program run (``slipway.testing.ProgramRun``);
* ``services``: requests AWS services make with a role on the stack's behalf, each from a
  cited AWS page;
* ``expectations``: the must-allow and generated must-deny tables of a stack;
* ``matrix``: role x request -> decision with the decisive statement, the mismatches and
  the grants no expected request uses;
* ``online``: the same requests against a real account with IAM ``SimulatePrincipalPolicy``.

The offline evaluator (npm ``@cloud-copilot/iam-simulate``, AGPL-3.0) is a test-time tool
of this repository only: nothing here imports or ships it (docs/security.md).
"""
