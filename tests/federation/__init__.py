"""Federation (issue 6): gatepass signing people in through upstream identity providers."""
