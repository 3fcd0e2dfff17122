"""The fault drill (`make chaos`): the real stack under faults, proving nothing acknowledged is lost."""
