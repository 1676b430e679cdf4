export { type MongoSinkOptions, createMongoSink } from './backends/mongo.js';
