"""Remote relay control: commands to one meter's output, and group commands with approval.

Every command is a meter job of the ``relay`` kind (``meters.jobs``): this app adds the rules
(who may, why, when refused), the two-person rule for large groups, the pages and the API.
"""
