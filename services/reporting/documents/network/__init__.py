"""The network's figures rendered: the yearly visitation report as PDF (`visitation_pdf`)."""
