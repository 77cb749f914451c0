"""The network's figures rendered: the quality report as CSV (`quality_csv`), the yearly visitation report as
PDF (`visitation_pdf`)."""
