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
 * Slot for Apache Spark 3.5.x (standalone master + workers + Spark Connect), filled in by the
 * Spark issue. 3.5 because the Cassandra connector has no release for Spark 4.
 */
export const SPARK_VERSION = '3.5.9';

/** The Java feature release the stack is built and tested for (Cassandra 5.0 supports 11 and 17 only). */
export const JAVA_FEATURE_VERSION = 17;
