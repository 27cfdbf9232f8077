export * from './mailer';
export * from './template';
export * from './test-smtp';
