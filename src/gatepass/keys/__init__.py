"""The signing-key ring: which keys are published, which one signs, and rotation."""
