mod harness_placeholder {}
