//! Connection failures map to `Error::Unavailable`; unknown schemes to `Validation`.

use mini_baas::Error;

#[tokio::test]
async fn refused_connection_is_unavailable() {
    // Port 1 on loopback: nothing listens, the connection is refused at once.
    #[cfg(feature = "postgres")]
    {
        let r = mini_baas::connect("postgres://baas:x@127.0.0.1:1/none").await;
        assert!(
            matches!(r, Err(Error::Unavailable { .. })),
            "postgres: {:?}",
            r.err()
        );
    }
    #[cfg(feature = "mysql")]
    {
        let r = mini_baas::connect("mysql://baas:x@127.0.0.1:1/none").await;
        assert!(
            matches!(r, Err(Error::Unavailable { .. })),
            "mysql: {:?}",
            r.err()
        );
    }
    let r = mini_baas::connect("oracle://somewhere").await;
    assert!(
        matches!(r, Err(Error::Validation { .. })),
        "scheme: {:?}",
        r.err()
    );
}

#[cfg(not(feature = "postgres"))]
#[tokio::test]
async fn compiled_out_engine_names_the_feature() {
    let err = mini_baas::connect("postgres://x@127.0.0.1/db")
        .await
        .err()
        .expect("error");
    assert!(err.to_string().contains("`postgres` feature"), "{err}");
}
