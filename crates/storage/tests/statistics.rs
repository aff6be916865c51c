//! The planner statistics SQLite needs to keep choosing the per-device
//! indexes as the job table grows.

use haishin_domain::Store;
use haishin_storage::testing::TestDb;

#[tokio::test]
async fn refresh_statistics_analyses_grown_tables_on_sqlite_and_is_harmless_on_postgres() {
    let db = TestDb::sqlite().await;
    for n in 0..300 {
        db.store.create_account(&format!("統計 {n}")).await.unwrap();
    }
    let raw = sqlx::SqlitePool::connect(&db.url).await.unwrap();
    let analysed = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
            .fetch_one(&raw)
            .await
            .unwrap()
            > 0
            && sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM sqlite_stat1 WHERE tbl = 'accounts'")
                .fetch_one(&raw)
                .await
                .unwrap()
                > 0
    };
    assert!(!analysed().await, "statistics existed before the refresh");
    db.store.refresh_statistics().await.unwrap();
    assert!(analysed().await, "accounts was not analysed");
    raw.close().await;
    db.cleanup().await.unwrap();

    let pg = TestDb::postgres().await;
    pg.store.refresh_statistics().await.unwrap();
    pg.cleanup().await.unwrap();
}
