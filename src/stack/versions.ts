/**
 * The one place where the versions of the local stack are pinned.
 * Changing a version here changes the cache directory, so the next `stack up` fetches it.
 */

/** A Maven artifact as `groupId:artifactId:version`. */
export interface MavenCoordinate {
  readonly groupId: string;
  readonly artifactId: string;
  readonly version: string;
}

export interface ComponentRelease {
  /** Name of the cache directory prefix and of the pom's artifactId. */
  readonly name: string;
  /** The version users see in `stack status`. */
  readonly version: string;
  /** What Maven resolves, with their runtime dependencies, onto the classpath. */
  readonly artifacts: readonly MavenCoordinate[];
  /**
   * Poms imported into dependencyManagement, so that shared dependencies get the versions the
   * upstream build chose rather than whichever path Maven happens to meet first.
   */
  readonly boms?: readonly MavenCoordinate[];
}

const maven = (groupId: string, artifactId: string, version: string): MavenCoordinate => ({ groupId, artifactId, version });

export const SCALA_BINARY_VERSION = '2.13';
const LOG4J_VERSION = '2.26.1';

/**
 * Apache Kafka 4.x in KRaft mode (Kafka 4 has no ZooKeeper mode).
 * Since 4.0 the broker logs through Log4j 2, but its pom declares only slf4j-api 1.7 and
 * no backend; the distribution's libs/ add one, so we add the slf4j 1.x binding of Log4j 2 ourselves.
 */
export const KAFKA_RELEASE: ComponentRelease = {
  name: 'kafka',
  version: '4.4.0',
  artifacts: [
    maven('org.apache.kafka', `kafka_${SCALA_BINARY_VERSION}`, '4.4.0'),
    maven('org.apache.logging.log4j', 'log4j-slf4j-impl', LOG4J_VERSION),
    maven('org.apache.logging.log4j', 'log4j-core', LOG4J_VERSION),
  ],
};

/** Apache Cassandra 5.0.x: the first line that runs on Java 17. cassandra-all brings logback and jamm. */
export const CASSANDRA_RELEASE: ComponentRelease = {
  name: 'cassandra',
  version: '5.0.8',
  artifacts: [maven('org.apache.cassandra', 'cassandra-all', '5.0.8')],
};

/**
 * Apache Spark 3.5.x with Scala 2.12: 3.5 because the Cassandra connector has no release for
 * Spark 4. The standalone master and workers come from spark-core; the Connect server is a
 * separate artifact in 3.5 (built in from 4.0). The Kafka source, Avro functions and the
 * Cassandra connector sit in the same jars/ folder, so the Connect driver and every executor
 * load them without --packages.
 * 3.5.7 rather than a later 3.5 patch: it is the newest one whose Connect server and Kafka
 * source are both served by the Maven repository our machines reach.
 */
export const SPARK_VERSION = '3.5.7';
export const SPARK_SCALA_BINARY_VERSION = '2.12';
/** The newest connector release; it supports Spark 3.5 and Cassandra up to 5.0. */
export const SPARK_CASSANDRA_CONNECTOR_VERSION = '3.5.1';

export const SPARK_RELEASE: ComponentRelease = {
  name: 'spark',
  version: SPARK_VERSION,
  artifacts: [
    ...['spark-core', 'spark-sql', 'spark-connect', 'spark-sql-kafka-0-10', 'spark-avro'].map((a) =>
      maven('org.apache.spark', `${a}_${SPARK_SCALA_BINARY_VERSION}`, SPARK_VERSION),
    ),
    maven('com.datastax.spark', `spark-cassandra-connector_${SPARK_SCALA_BINARY_VERSION}`, SPARK_CASSANDRA_CONNECTOR_VERSION),
  ],
  // Spark's parent pom pins what its distribution ships: without it Avro's older jackson-core
  // and slf4j-api 1.7 win, and Spark's log4j-slf4j2 binding finds no slf4j 2 API (no logs at all).
  boms: [maven('org.apache.spark', `spark-parent_${SPARK_SCALA_BINARY_VERSION}`, SPARK_VERSION)],
};

/** The Java feature release the stack is built and tested for (Cassandra 5.0 supports 11 and 17 only). */
export const JAVA_FEATURE_VERSION = 17;
