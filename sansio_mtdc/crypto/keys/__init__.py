"""Package data: the reference DC cluster's RSA key pair (a published test key, see
:func:`sansio_mtdc.crypto.rsa.reference_cluster_key`)."""
