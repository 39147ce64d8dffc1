# Test tiers: host unit tests (cmocka, ASan+UBSan) and QEMU scenarios.
_test:
	@echo "tests: not yet"
