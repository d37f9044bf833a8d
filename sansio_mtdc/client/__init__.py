"""The multi-DC client machine: requests in, actions and events out."""
