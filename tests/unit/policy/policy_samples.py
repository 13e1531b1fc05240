"""Policy texts shared by the policy tests."""

#: a small valid policy; tests append rules or break one line of it
MINIMAL = """\
policy: minimal
actions:
  unlock_account:
    proofs:
      - [push_number_match]
      - [callback_automated]
  reset_mfa:
    proofs:
      - [callback_automated, push_number_match]
      - [self_service_initiated, external_idv]
    approvals: {count: 1, role: supervisor}
"""
