"""provisioning app."""
